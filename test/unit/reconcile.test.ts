import { describe, expect, test } from "bun:test";
import { RESCHEDULE_BASE_MS, RESCHEDULE_MAX_MS, reconcile, rescheduleDelay } from "../../src/manager/reconcile.ts";
import { makeJob, makeJobSpec, makeNode, makeTask } from "./fixtures.ts";

const nodes = [makeNode("a"), makeNode("b"), makeNode("c")];

describe("reconcile", () => {
  test("creates every missing replica slot", () => {
    const job = makeJob(makeJobSpec("web", [{ count: 3 }]));
    const d = reconcile({ job, tasks: [makeTask({ index: 1 })], versions: new Map(), nodes, now: 0 });
    expect(d.create).toEqual([{ group: "http", index: 0 }, { group: "http", index: 2 }]);
    expect(d.stop).toEqual([]);
  });

  test("a stopped job stops all its live tasks", () => {
    const job = makeJob(makeJobSpec("web", [{ count: 2 }]), 1, "stopped");
    const live = [makeTask({ index: 0 }), makeTask({ index: 1, state: "pending", nodeId: null })];
    const d = reconcile({ job, tasks: [...live, makeTask({ index: 0, state: "failed" })], versions: new Map(), nodes, now: 0 });
    expect(d.stop.map((s) => s.task.id)).toEqual(live.map((t) => t.id));
    expect(d.create).toEqual([]);
  });

  test("scaling down stops the highest slots only", () => {
    const job = makeJob(makeJobSpec("web", [{ count: 1 }]));
    const tasks = [makeTask({ index: 0 }), makeTask({ index: 1 }), makeTask({ index: 2 })];
    const d = reconcile({ job, tasks, versions: new Map(), nodes, now: 0 });
    expect(d.stop.map((s) => s.task.index).sort()).toEqual([1, 2]);
    expect(d.stop[0]?.reason).toBe("scaled down to 1");
  });

  test("a count-only change adopts the running tasks instead of replacing them", () => {
    const v1 = makeJobSpec("web", [{ count: 1 }]);
    const v2 = makeJobSpec("web", [{ count: 2 }]);
    const running = makeTask({ index: 0, jobVersion: 1 });
    const d = reconcile({ job: makeJob(v2, 2), tasks: [running], versions: new Map([[1, v1]]), nodes, now: 0 });
    expect(d.adopt.map((t) => t.id)).toEqual([running.id]);
    expect(d.stop).toEqual([]);
    expect(d.create).toEqual([{ group: "http", index: 1 }]);
  });

  test("a changed image replaces the task", () => {
    const v1 = makeJobSpec("web", [{ image: "one" }]);
    const v2 = makeJobSpec("web", [{ image: "two" }]);
    const d = reconcile({ job: makeJob(v2, 2), tasks: [makeTask({ jobVersion: 1 })], versions: new Map([[1, v1]]), nodes, now: 0 });
    expect(d.stop[0]?.reason).toBe("replaced by job version 2");
    expect(d.create).toEqual([{ group: "http", index: 0 }]);
  });

  test("two live tasks in one slot: the running one stays", () => {
    const job = makeJob(makeJobSpec("web"));
    const running = makeTask({ state: "running" });
    const pending = makeTask({ state: "pending", nodeId: null });
    const d = reconcile({ job, tasks: [pending, running], versions: new Map(), nodes, now: 0 });
    expect(d.stop.map((s) => s.task.id)).toEqual([pending.id]);
  });

  test("a failed service slot is replaced after a growing delay", () => {
    const job = makeJob(makeJobSpec("web"));
    const failed = [makeTask({ state: "failed", finishedAt: 1_000 })];
    expect(reconcile({ job, tasks: failed, versions: new Map(), nodes, now: 2_000 })).toMatchObject({ create: [], wakeAt: 6_000 });
    expect(reconcile({ job, tasks: failed, versions: new Map(), nodes, now: 6_000 }).create).toEqual([{ group: "http", index: 0 }]);
    const twice = [...failed, makeTask({ state: "failed", finishedAt: 7_000 })];
    expect(reconcile({ job, tasks: twice, versions: new Map(), nodes, now: 8_000 }).wakeAt).toBe(17_000);
    expect(rescheduleDelay(100)).toBe(300_000);
  });

  test("a lost service task is replaced at once", () => {
    const job = makeJob(makeJobSpec("web"));
    const d = reconcile({ job, tasks: [makeTask({ state: "lost", desired: "stopped" })], versions: new Map(), nodes, now: 0 });
    expect(d.create).toEqual([{ group: "http", index: 0 }]);
  });

  test("a finished batch slot is left alone, successful or not", () => {
    const tasks = [makeTask({ index: 0, state: "completed", exitCode: 0, finishedAt: 1_000 }), makeTask({ index: 1, state: "failed", exitCode: 1, finishedAt: 1_000 })];
    // Long past any reschedule delay, so only the job type keeps the failed slot from being replaced.
    const now = 1_000 + RESCHEDULE_MAX_MS;
    const asService = reconcile({ job: makeJob(makeJobSpec("web", [{ count: 2 }])), tasks, versions: new Map(), nodes, now });
    expect(asService.create).toEqual([{ group: "http", index: 0 }, { group: "http", index: 1 }]);
    const asBatch = reconcile({ job: makeJob(makeJobSpec("web", [{ count: 2 }], { type: "batch" })), tasks, versions: new Map(), nodes, now });
    expect(asBatch).toMatchObject({ create: [], wakeAt: null });
  });

  test("a batch task that failed without running (no exit code: its image could not be had) leaves its slot to a new task, after the delay", () => {
    const tasks = [makeTask({ index: 0, state: "failed", exitCode: null, finishedAt: 1_000 })];
    const job = makeJob(makeJobSpec("web", [{ count: 1 }], { type: "batch" }));
    expect(reconcile({ job, tasks, versions: new Map(), nodes, now: 1_000 })).toMatchObject({ create: [], wakeAt: 1_000 + RESCHEDULE_BASE_MS });
    expect(reconcile({ job, tasks, versions: new Map(), nodes, now: 1_000 + RESCHEDULE_BASE_MS }).create).toEqual([{ group: "http", index: 0 }]);
  });

  test("a system job wants one task on each ready, eligible node of its datacenters", () => {
    const cluster = [makeNode("a"), makeNode("b", { status: "down" }), makeNode("c", { eligible: false }), makeNode("d", { datacenter: "dc2" }), makeNode("e")];
    const job = makeJob(makeJobSpec("agent", [{}], { type: "system", datacenters: ["dc1"] }));
    const existing = makeTask({ job: "agent", nodeId: "id-a", index: 0 });
    const d = reconcile({ job, tasks: [existing], versions: new Map(), nodes: cluster, now: 0 });
    expect(d.create).toEqual([{ group: "http", index: 1, nodeId: "id-e" }]);
  });
});

describe("rolling updates", () => {
  const update = { maxParallel: 1, minHealthyTimeMs: 1_000, healthyDeadlineMs: 10_000, autoRevert: true };
  const v1 = makeJobSpec("web", [{ image: "one", count: 3, update }]);
  const v2 = makeJobSpec("web", [{ image: "two", count: 3, update }]);
  const versions = new Map([[1, v1]]);
  const old = (index: number) => makeTask({ index, jobVersion: 1, startedAt: 0 });

  test("replaces one outdated task at a time", () => {
    const d = reconcile({ job: makeJob(v2, 2), tasks: [old(0), old(1), old(2)], versions, nodes, now: 100_000 });
    expect(d.stop.map((s) => s.task.index)).toEqual([0]);
    expect(d.create).toEqual([{ group: "http", index: 0 }]);
    expect(d.rolloutFailure).toBeNull();
  });

  test("waits while the new task is not yet healthy, and wakes when it will be", () => {
    const fresh = makeTask({ index: 0, jobVersion: 2, createdAt: 99_000, startedAt: 99_500 });
    const d = reconcile({ job: makeJob(v2, 2), tasks: [fresh, old(1), old(2)], versions, nodes, now: 100_000 });
    expect(d.stop).toEqual([]);
    expect(d.create).toEqual([]);
    expect(d.wakeAt).toBe(100_500);
    const later = reconcile({ job: makeJob(v2, 2), tasks: [fresh, old(1), old(2)], versions, nodes, now: 100_600 });
    expect(later.stop.map((s) => s.task.index)).toEqual([1]);
  });

  test("a new task not healthy by the deadline fails the rollout and names the version to go back to", () => {
    const stuck = makeTask({ index: 0, jobVersion: 2, state: "scheduled", createdAt: 80_000 });
    const d = reconcile({ job: makeJob(v2, 2), tasks: [stuck, old(1), old(2)], versions, nodes, now: 100_000 });
    expect(d.stop).toEqual([]);
    expect(d.rolloutFailure).toEqual({ group: "http", reason: "task http.0 of the new version was not healthy within 10s", revertTo: 1 });
  });

  test("without an update strategy every outdated task is replaced at once", () => {
    const plain1 = makeJobSpec("web", [{ image: "one", count: 3 }]);
    const plain2 = makeJobSpec("web", [{ image: "two", count: 3 }]);
    const d = reconcile({ job: makeJob(plain2, 2), tasks: [old(0), old(1), old(2)], versions: new Map([[1, plain1]]), nodes, now: 0 });
    expect(d.stop.length).toBe(3);
    expect(d.create.length).toBe(3);
  });

  test("changing only the update strategy restarts nothing", () => {
    const slower = makeJobSpec("web", [{ image: "one", count: 3, update: { ...update, maxParallel: 2 } }]);
    const d = reconcile({ job: makeJob(slower, 2), tasks: [old(0), old(1), old(2)], versions, nodes, now: 0 });
    expect(d.stop).toEqual([]);
    expect(d.adopt.length).toBe(3);
  });
});

describe("draining", () => {
  const update = { maxParallel: 1, minHealthyTimeMs: 1_000, healthyDeadlineMs: 10_000, autoRevert: true };
  const draining = new Set(["id-a"]);
  const on = (nodeId: string, index: number, extra = {}) => makeTask({ index, nodeId, startedAt: 0, ...extra });

  test("a service with an update strategy leaves a draining node max_parallel healthy tasks at a time", () => {
    const spec = makeJobSpec("web", [{ count: 3, update }]);
    const d = reconcile({ job: makeJob(spec), tasks: [on("id-a", 0), on("id-a", 1), on("id-b", 2)], versions: new Map(), nodes, draining, now: 100_000 });
    expect(d.stop.map((s) => [s.task.index, s.reason])).toEqual([[0, "node a is draining"]]);
    expect(d.create).toEqual([{ group: "http", index: 0 }]);

    // The replacement runs but is not healthy yet: nothing more leaves, and the job wakes when it will be.
    const fresh = on("id-c", 0, { startedAt: 99_500, createdAt: 99_000 });
    const waiting = reconcile({ job: makeJob(spec), tasks: [fresh, on("id-a", 1), on("id-b", 2)], versions: new Map(), nodes, draining, now: 100_000 });
    expect(waiting.stop).toEqual([]);
    expect(waiting.wakeAt).toBe(100_500);
    const next = reconcile({ job: makeJob(spec), tasks: [fresh, on("id-a", 1), on("id-b", 2)], versions: new Map(), nodes, draining, now: 100_600 });
    expect(next.stop.map((s) => s.task.index)).toEqual([1]);
  });

  test("a task on a draining node that serves nothing yet leaves at once, without using the room", () => {
    const spec = makeJobSpec("web", [{ count: 3, update }]);
    const tasks = [on("id-a", 0, { state: "scheduled", startedAt: null }), on("id-a", 1), on("id-a", 2)];
    const d = reconcile({ job: makeJob(spec), tasks, versions: new Map(), nodes, draining, now: 100_000 });
    expect(d.stop.map((s) => s.task.index)).toEqual([0]);
  });

  test("without an update strategy, and for batch and system jobs, every task leaves at once", () => {
    for (const overrides of [{}, { type: "batch" as const }, { type: "system" as const }]) {
      const spec = makeJobSpec("web", [{ count: 2, ...(overrides.type ? { update } : {}) }], overrides);
      const d = reconcile({ job: makeJob(spec), tasks: [on("id-a", 0), on("id-a", 1)], versions: new Map(), nodes, draining, now: 100_000 });
      expect(d.stop.map((s) => s.task.index)).toEqual([0, 1]);
    }
  });
});
