import { describe, expect, test } from "bun:test";
import type { RestartPolicy } from "../../src/model/job.ts";
import { decideRestart } from "../../src/worker/restart-policy.ts";

const policy: RestartPolicy = { attempts: 3, intervalMs: 60_000, delayMs: 1_000, mode: "fail" };

describe("decideRestart", () => {
  test("the delay doubles with each restart in the interval", () => {
    expect(decideRestart(policy, [], 0)).toEqual({ restart: true, delayMs: 1_000, attempt: 1 });
    expect(decideRestart(policy, [0], 100)).toEqual({ restart: true, delayMs: 2_000, attempt: 2 });
    expect(decideRestart(policy, [0, 100], 200)).toEqual({ restart: true, delayMs: 4_000, attempt: 3 });
  });

  test("mode fail gives up once attempts are used within the interval", () => {
    const decision = decideRestart(policy, [0, 100, 200], 300);
    expect(decision.restart).toBe(false);
    if (!decision.restart) expect(decision.reason).toBe("restart attempts exhausted (3 in 60s)");
  });

  test("restarts older than the interval no longer count", () => {
    expect(decideRestart(policy, [0, 100, 200], 60_150)).toEqual({ restart: true, delayMs: 2_000, attempt: 2 });
  });

  test("mode delay waits for the oldest restart to leave the interval", () => {
    expect(decideRestart({ ...policy, mode: "delay" }, [0, 100, 200], 300)).toEqual({ restart: true, delayMs: 59_700, attempt: 3 });
  });

  test("zero attempts never restarts, whatever the mode", () => {
    expect(decideRestart({ ...policy, attempts: 0 }, [], 0).restart).toBe(false);
    expect(decideRestart({ ...policy, attempts: 0, mode: "delay" }, [], 0).restart).toBe(false);
  });
});
