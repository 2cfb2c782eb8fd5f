import { expect, test } from "bun:test";
import { progressLines } from "../../src/cli/push-progress.ts";
import { repeatedFlag } from "../../src/cli/repeated-flag.ts";
import { engineAddress } from "../../src/driver/docker/engine-address.ts";

test("--docker-host takes unix:// paths and tcp://host:port, and says what else it would need", () => {
  expect(engineAddress(undefined)).toEqual({ options: { socketPath: "/var/run/docker.sock" }, where: "/var/run/docker.sock" });
  expect(engineAddress("unix:///tmp/e2/docker.sock")).toEqual({ options: { socketPath: "/tmp/e2/docker.sock" }, where: "/tmp/e2/docker.sock" });
  expect(engineAddress("tcp://10.0.0.5:2375").options).toEqual({ host: "10.0.0.5", port: 2375, protocol: "http" });
  expect(() => engineAddress("ssh://me@host")).toThrow('the Docker host must be unix:///path/to/docker.sock or tcp://HOST:PORT, not "ssh://me@host"');
});

test("a push's progress: a bar of bytes sent per node, full only once loaded or skipped", () => {
  const mib = 1_048_576;
  const lines = progressLines(
    [
      { node: "w1", sent: 5 * mib, state: "sending", detail: "" },
      { node: "worker-2", sent: 0, state: "skipped", detail: "0123456789ab" },
      { node: "w3", sent: 12 * mib, state: "loaded", detail: "app:1" },
      { node: "w4", sent: 11 * mib, state: "sending", detail: "" },
    ],
    10 * mib,
  );
  expect(lines).toEqual([
    `w1        [${"#".repeat(12)}${"-".repeat(12)}]     5.0 MiB  sending`,
    `worker-2  [${"#".repeat(24)}]     0.0 MiB  already there (0123456789ab)`,
    `w3        [${"#".repeat(24)}]    12.0 MiB  loaded app:1`,
    `w4        [${"#".repeat(23)}-]    11.0 MiB  sending`,
  ]);
});

test("a repeated flag keeps every value, and nothing after --", () => {
  expect(repeatedFlag(["push", "img", "--node", "a", "--node=b", "--json", "--", "--node", "c"], "node")).toEqual(["a", "b"]);
});

test("a worker's image inventory never waits for the engine, and an engine change made during a listing is listed again", async () => {
  const { ImageInventory } = await import("../../src/worker/image-inventory.ts");
  const { createLogger } = await import("../../src/lib/logger.ts");
  let answer: string[] = ["a:1"];
  const pending: (() => void)[] = [];
  // Each listing answers what the engine had when it was asked.
  const engine = {
    images: () => {
      const listed = [...answer];
      return new Promise<string[]>((resolve) => pending.push(() => resolve(listed)));
    },
  };
  const inventory = new ImageInventory(engine, createLogger("test", "error"));
  expect(inventory.report()).toBeNull();
  answer = ["a:1", "b:1"];
  inventory.changed();
  pending.shift()?.();
  await Bun.sleep(0);
  expect(inventory.report()?.refs).toEqual(["a:1"]);
  expect(pending.length).toBe(1);
  pending.shift()?.();
  await Bun.sleep(0);
  const first = inventory.report();
  expect(first?.refs).toEqual(["a:1", "b:1"]);
  inventory.pullFailed("c:1", "no registry");
  expect(inventory.report()?.unpullable.map((f) => f.image)).toEqual(["c:1"]);
  expect(inventory.report()?.digest).not.toBe(first?.digest);
});
