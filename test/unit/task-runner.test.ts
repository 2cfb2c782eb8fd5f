import { describe, expect, test } from "bun:test";
import { DriverError, type Driver, type ExitResult, type TaskConfig } from "../../src/driver/driver.ts";
import { createLogger } from "../../src/lib/logger.ts";
import type { Assignment, TaskReport } from "../../src/model/api-types.ts";
import { TaskRunner } from "../../src/worker/task-runner.ts";
import { waitFor } from "../support/wait-for.ts";
import { makeTask, makeTaskSpec } from "./fixtures.ts";

/** A driver whose containers exit with the codes queued for them; the engine can be switched off. */
class ScriptedDriver implements Driver {
  engineUp = true;
  starts = 0;
  readonly exitCodes: number[];
  private exits = new Map<string, (r: ExitResult) => void>();
  private waits = new Map<string, Promise<ExitResult>>();

  constructor(exitCodes: number[]) {
    this.exitCodes = exitCodes;
  }

  async ping() {
    if (!this.engineUp) throw new DriverError("engine away", "engine_unreachable");
  }
  async start(config: TaskConfig) {
    if (!this.engineUp) throw new DriverError("cannot reach the Docker engine", "engine_unreachable");
    this.starts++;
    const containerId = `c${this.starts}`;
    const code = this.exitCodes.shift();
    const done = new Promise<ExitResult>((resolve) => this.exits.set(containerId, resolve));
    if (code !== undefined) setTimeout(() => this.exits.get(containerId)?.({ exitCode: code, oomKilled: false, description: `exit code ${code}`, finishedAt: Date.now() }), 5);
    this.waits.set(containerId, done);
    return { taskId: config.taskId, containerId, hostPorts: {}, startedAt: Date.now() };
  }
  wait(containerId: string) {
    return this.waits.get(containerId) as Promise<ExitResult>;
  }
  async stop(containerId: string) {
    this.exits.get(containerId)?.({ exitCode: 143, oomKilled: false, description: "exit code 143", finishedAt: Date.now() });
  }
  async destroy() {}
  async recover() {
    return [];
  }
  async logs(): Promise<ReadableStream<Uint8Array>> {
    throw new Error("not used");
  }
  async exec() {
    return { exitCode: 0, output: "" };
  }
  async stats() {
    return { cpuSeconds: 0, memoryBytes: 0 };
  }
}

function runner(driver: Driver, jobType: Assignment["jobType"], attempts: number) {
  const reports: TaskReport[] = [];
  const assignment: Assignment = { task: makeTask({ state: "scheduled" }), spec: makeTaskSpec({ restart: { attempts, intervalMs: 60_000, delayMs: 1, mode: "fail" } }), jobType };
  const r = new TaskRunner(assignment, { driver, nodeId: "n1", report: (_id, report) => reports.push(report), log: createLogger("test", "error"), stopTimeoutMs: 10 });
  return { r, reports };
}

describe("TaskRunner", () => {
  test("a batch task that exits 0 completes", async () => {
    const { r, reports } = runner(new ScriptedDriver([0]), "batch", 2);
    r.start();
    await waitFor("completed", () => (reports.at(-1)?.state === "completed" ? true : undefined), 2_000, 5);
    expect(reports.map((x) => x.state)).toEqual(["running", "completed"]);
  });

  test("crashes are restarted up to the policy, then the task fails with the last exit", async () => {
    const driver = new ScriptedDriver([1, 2, 3]);
    const { r, reports } = runner(driver, "service", 2);
    r.start();
    await waitFor("failed", () => (reports.at(-1)?.state === "failed" ? true : undefined), 2_000, 5);
    expect(driver.starts).toBe(3);
    expect(reports.at(-1)).toMatchObject({ state: "failed", exitCode: 3, restarts: 2 });
    expect(reports.at(-1)?.message).toContain("exit code 3; restart attempts exhausted");
  });

  test("an unreachable engine is waited out without spending restart attempts", async () => {
    const driver = new ScriptedDriver([]);
    driver.engineUp = false;
    const { r, reports } = runner(driver, "service", 0);
    r.start();
    await Bun.sleep(600);
    expect(reports).toEqual([]);
    driver.engineUp = true;
    await waitFor("running once the engine is back", () => (reports.at(-1)?.state === "running" ? true : undefined), 6_000, 20);
    expect(reports.at(-1)?.restarts).toBe(0);
    await r.stop("test over");
    expect(reports.at(-1)?.state).toBe("stopped");
  });

  test("a missing image fails at once", async () => {
    const driver = new ScriptedDriver([]);
    driver.start = async () => {
      throw new DriverError('image "x" not found', "image_not_found");
    };
    const { r, reports } = runner(driver, "service", 5);
    r.start();
    await waitFor("failed", () => (reports.at(-1)?.state === "failed" ? true : undefined), 2_000, 5);
    expect(reports).toEqual([{ restarts: 0, state: "failed", message: 'image "x" not found' }]);
  });
});
