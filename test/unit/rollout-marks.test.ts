import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobSpec } from "../../src/model/job.ts";
import { openStore } from "../../src/store/index.ts";
import { makeJobSpec, makeNode, makeTask, makeTaskSpec } from "./fixtures.ts";
import { ManagerFixture } from "./manager-fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "cube-rollout-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const update = { maxParallel: 1, minHealthyTimeMs: 0, healthyDeadlineMs: 60_000 };
const web = (image: string, autoRevert: boolean, count = 2): JobSpec => makeJobSpec("web", [makeTaskSpec({ image, count, update: { ...update, autoRevert } })]);

/** v1 running on one node, then v2 submitted; its first replacement fails. */
async function failedRollout(path: string, autoRevert: boolean): Promise<ManagerFixture> {
  const f = new ManagerFixture(openStore(path));
  f.join("a");
  f.manager.submitJob(web("img:1", autoRevert));
  f.manager.reconcileNow();
  for (const task of f.live("web")) await f.report(task, { state: "running", message: "started" });
  f.manager.submitJob(web("img:2", autoRevert));
  f.manager.reconcileNow();
  const replaced = f.live("web").find((t) => t.jobVersion === 1 && t.desired === "stopped");
  const replacement = f.live("web").find((t) => t.jobVersion === 2);
  if (!replaced || !replacement) throw new Error("expected one task replaced by one of version 2");
  await f.report(replaced, { state: "stopped", message: "stopped" });
  await f.report(replacement, { state: "running", message: "started" }, { state: "failed", message: "exit code 1", exitCode: 1 });
  f.manager.reconcileNow();
  return f;
}

function restart(f: ManagerFixture, path: string): ManagerFixture {
  f.manager.stop();
  f.store.close();
  const again = new ManagerFixture(openStore(path));
  again.clock = f.clock;
  // Starting evaluates every job once.
  again.manager.start();
  again.manager.reconcileNow();
  return again;
}

test("a failed rollout's reason is stored with its version: after a restart it is still failed, and not rolled further", async () => {
  const path = join(dir, "failed.db");
  const f = await failedRollout(path, false);
  const reason = "task http.0 of the new version failed: exit code 1";
  expect(f.manager.getJob("web")).toMatchObject({ version: 2, rolloutFailure: reason });
  const oldLeft = f.live("web").filter((t) => t.jobVersion === 1);
  expect(oldLeft).toHaveLength(1);

  const after = restart(f, path);
  expect(after.manager.getJob("web")).toMatchObject({ version: 2, rolloutFailure: reason });
  expect(after.manager.jobVersions("web").map((v) => [v.version, v.rolloutFailure, v.autoRevert])).toEqual([
    [2, reason, false],
    [1, null, false],
  ]);
  // The version 1 task left is not replaced: the rollout stays stopped where it failed.
  expect(after.live("web").filter((t) => t.jobVersion === 1).map((t) => t.id)).toEqual(oldLeft.map((t) => t.id));
  expect(after.manager.eventHistory({ job: "web", type: "job" }).items.map((e) => e.message)).toEqual([]);
  after.manager.stop();
  after.store.close();
});

test("an automatic revert is marked on the version it made, and a restarted manager does not revert again", async () => {
  const path = join(dir, "reverted.db");
  const f = await failedRollout(path, true);
  const marks = () => f.manager.jobVersions("web").map((v) => [v.version, v.autoRevert, v.rolloutFailure]);
  const reason = "task http.0 of the new version failed: exit code 1";
  expect(marks()).toEqual([
    [3, true, null],
    [2, false, reason],
    [1, false, null],
  ]);
  expect(f.manager.eventHistory({ job: "web", type: "job" }).items.map((e) => e.message).slice(-2)).toEqual([
    `rollout of job web version 2 failed: ${reason}; reverting to version 1`,
    "job web reverted to version 1's spec as version 3",
  ]);
  const after = restart(f, path);
  expect(after.manager.jobVersions("web").map((v) => [v.version, v.autoRevert, v.rolloutFailure])).toEqual([
    [3, true, null],
    [2, false, reason],
    [1, false, null],
  ]);
  expect(after.manager.eventHistory({ job: "web", type: "job" }).items).toEqual([]);
  after.manager.stop();
  after.store.close();
});

test("a manager that finds a version marked as an automatic revert in the store does not revert it when its rollout fails", async () => {
  const path = join(dir, "marked.db");
  const store = openStore(path);
  store.putJob(web("img:1", true, 2), 1_000);
  store.putJob(web("img:2", true, 2), 2_000, { autoRevert: true });
  store.upsertNode(makeNode("a", { lastHeartbeat: 1_000_000 }));
  store.insertTask(makeTask({ job: "web", jobVersion: 1, group: "http", index: 0, nodeId: "id-a", state: "running", startedAt: 1_000 }));
  store.insertTask(makeTask({ job: "web", jobVersion: 2, group: "http", index: 1, nodeId: "id-a", state: "failed", message: "exit code 1", finishedAt: 2_000 }));
  const f = new ManagerFixture(store);
  f.manager.start();
  f.manager.reconcileNow();
  expect(f.manager.jobVersions("web").map((v) => [v.version, v.autoRevert, v.rolloutFailure])).toEqual([
    [2, true, "task http.1 of the new version failed: exit code 1"],
    [1, false, null],
  ]);
  expect(f.manager.eventHistory({ job: "web", type: "job" }).items.map((e) => e.message)).toEqual(["rollout of job web version 2 failed: task http.1 of the new version failed: exit code 1"]);
  f.manager.stop();
  store.close();
});
