import { describe, expect, test } from "bun:test";
import { openStore, type Store } from "../../src/store/index.ts";
import { describeState } from "./cluster-view.ts";
import { ManagerFixture } from "./manager-fixture.ts";

/** The store, counting its transactions (not the savepoints inside them), refusing the next one when asked to, and taking `savepointMs` (busy) per savepoint. */
/** A store that counts its transactions; each commit inside one (a savepoint) moves `clock` on by `savepointMs`. */
function watchedStore() {
  const store = openStore(":memory:");
  const seen = { transactions: 0, refuseNext: false, savepointMs: 0, clock: 0 };
  let depth = 0;
  const proxy = new Proxy(store, {
    get(target, key) {
      if (key === "transaction") {
        return <T>(fn: () => T): T => {
          if (depth === 0) seen.transactions++;
          else seen.clock += seen.savepointMs;
          depth++;
          try {
            return target.transaction(() => {
              const result = fn();
              if (seen.refuseNext && depth === 1) {
                seen.refuseNext = false;
                throw new Error("disk full");
              }
              return result;
            });
          } finally {
            depth--;
          }
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store;
  return { store: proxy, seen };
}

describe("task reports", () => {
  test("a batch is applied in order in one transaction; a stale, foreign or unknown report is refused on its own", async () => {
    const { store, seen } = watchedStore();
    const f = new ManagerFixture(store);
    const a = f.join("a");
    f.join("b");
    f.submit("web", 4);
    const onA = f.live("web").filter((t) => t.nodeId === a);
    const foreign = f.live("web").find((t) => t.nodeId !== a);
    const [first, second] = onA;
    if (!first || !second || !foreign) throw new Error("expected tasks on both nodes");
    await f.report(second, { state: "running", message: "started" }, { state: "completed", message: "exit code 0", exitCode: 0 });
    f.manager.reconcileNow();

    const before = seen.transactions;
    const results = await f.manager.reportTasks(a, [
      { taskId: first.id, state: "running", message: "started", containerId: "c1" },
      { taskId: second.id, state: "running", message: "late" },
      { taskId: foreign.id, state: "running", message: "not mine" },
      { taskId: "no-such-task", state: "running", message: "?" },
      { taskId: first.id, state: "running", message: "healthy", health: "healthy" },
    ]);
    expect(seen.transactions - before).toBe(1);
    expect(results).toEqual([
      { taskId: first.id, ok: true, state: "running", desired: "running" },
      { taskId: second.id, ok: false, error: { code: "conflict", message: `task ${second.id} is completed and cannot become running` } },
      { taskId: foreign.id, ok: false, error: { code: "conflict", message: `task ${foreign.id} is not placed on node ${a}` } },
      { taskId: "no-such-task", ok: false, error: { code: "not_found", message: "task no-such-task does not exist" } },
      { taskId: first.id, ok: true, state: "running", desired: "running" },
    ]);
    const detail = f.manager.getTask(first.id);
    expect(detail.events.map((e) => e.message)).toEqual(["waiting for placement", "placed on a", "started", "healthy"]);
    expect(detail).toMatchObject({ health: "healthy", containerId: "c1" });
    expect(f.manager.getTask(foreign.id).state).toBe("scheduled");
  });

  test("reports that arrive together from many nodes are committed together, in one transaction", async () => {
    const { store, seen } = watchedStore();
    const f = new ManagerFixture(store);
    const nodes = ["a", "b", "c"].map((n) => f.join(n));
    f.submit("web", 6);
    const before = seen.transactions;
    const answers = await Promise.all(nodes.map((nodeId) => f.manager.reportTasks(nodeId, f.live("web").filter((t) => t.nodeId === nodeId).map((t) => ({ taskId: t.id, state: "running" as const, message: "started" })))));
    expect(seen.transactions - before).toBe(1);
    expect(answers.flat().map((r) => r.ok)).toEqual(Array.from({ length: 6 }, () => true));
    expect(f.live("web").every((t) => t.state === "running")).toBe(true);
  });

  test("a request of many reports is committed 50 at a time, for about 5 ms per turn, and answered once, in order; one sent meanwhile follows it", async () => {
    const { store, seen } = watchedStore();
    // Turns are timed by the store's own clock, so a busy machine cannot end one early.
    const f = new ManagerFixture(store, { turnClock: () => seen.clock });
    const a = f.join("a");
    const b = f.join("b");
    f.submit("web", 80, 1);
    const onA = f.live("web").filter((t) => t.nodeId === a);
    const onB = f.live("web").filter((t) => t.nodeId === b);
    expect(onA.length).toBe(40);
    // Each task of node a started, then healthy and unhealthy by turns, ending healthy: 240 reports in one request.
    const health = (h: "healthy" | "unhealthy") => onA.map((t) => ({ taskId: t.id, state: "running" as const, message: h, health: h }));
    const reports = [...onA.map((t) => ({ taskId: t.id, state: "running" as const, message: "started" })), ...health("healthy"), ...health("unhealthy"), ...health("healthy"), ...health("unhealthy"), ...health("healthy")];
    // Each commit of 50 takes 4 ms: a turn ends after two, so the 243 reports (5 commits) take 3 turns
    // (whole requests a turn would take 2, 50 reports a turn 5).
    seen.savepointMs = 4;
    const before = seen.transactions;
    const [big, small] = await Promise.all([f.manager.reportTasks(a, reports), f.manager.reportTasks(b, onB.slice(0, 3).map((t) => ({ taskId: t.id, state: "running" as const, message: "started" })))]);
    expect(seen.transactions - before).toBe(3);
    expect(big.map((r) => r.taskId)).toEqual(reports.map((r) => r.taskId));
    expect(big.every((r) => r.ok && r.state === "running")).toBe(true);
    expect(small.map((r) => r.ok)).toEqual([true, true, true]);
    expect(f.live("web").filter((t) => t.nodeId === a).map((t) => [t.state, t.health])).toEqual(onA.map(() => ["running", "healthy"]));
  });

  test("when the store refuses the transaction, memory is left as it was and the batch can be sent again", async () => {
    const { store, seen } = watchedStore();
    const f = new ManagerFixture(store);
    const a = f.join("a");
    f.submit("web", 2);
    const [task] = f.live("web");
    const before = describeState(f.manager.state);
    seen.refuseNext = true;
    await expect(f.manager.reportTasks(a, [{ taskId: task?.id as string, state: "running", message: "started" }])).rejects.toThrow("disk full");
    expect(describeState(f.manager.state)).toEqual(before);
    expect((await f.manager.reportTasks(a, [{ taskId: task?.id as string, state: "running", message: "started" }]))[0]).toMatchObject({ ok: true, state: "running" });
  });

  test("while the oldest queued report has waited over 8 s, new ones are turned away as busy, untouched; once the queue drains they are taken", async () => {
    const f = new ManagerFixture(openStore(":memory:"));
    const a = f.join("a");
    f.submit("web", 2);
    const [first, second] = f.live("web");
    if (!first || !second) throw new Error("expected two tasks");
    const started = { state: "running" as const, message: "started" };
    const queued = f.report(first, started);
    f.clock += 8_000;
    const inTime = f.report(second, started);
    f.clock += 1;
    const refused = await f.report(second, { state: "failed", message: "exit code 1", exitCode: 1 }).then(
      () => null,
      (err: Error & { code?: string }) => err,
    );
    expect(refused?.code).toBe("busy");
    expect(refused?.message).toContain("2 task reports waiting to be stored, the oldest for 8001 ms");
    expect((await queued)[0]).toMatchObject({ ok: true, state: "running" });
    expect((await inTime)[0]).toMatchObject({ ok: true, state: "running" });
    expect(f.live("web").map((t) => t.state)).toEqual(["running", "running"]);
    expect((await f.report(second, { state: "failed", message: "exit code 1", exitCode: 1 }))[0]).toMatchObject({ ok: true, state: "failed" });
  });
});

describe("the assignment watch", () => {
  test("wakes a node for a task placed there, a stop asked for, a task lost or a new registration, never for its own reports", async () => {
    const f = new ManagerFixture();
    const a = f.join("a");
    const index = async () => (await f.manager.assignments(a, "", 0)).index;
    const start = await index();
    f.submit("web", 2);
    const placed = await index();
    expect(placed).not.toBe(start);

    const [first, second] = f.live("web");
    if (!first || !second) throw new Error("expected two tasks");
    await f.report(first, { state: "running", message: "started", containerId: "c1" });
    await f.report(first, { state: "running", message: "healthy", health: "healthy" });
    await f.report(second, { state: "running", message: "started" }, { state: "restarting", message: "exited; again in 1s", nextAttemptAt: f.clock + 1_000 });
    f.manager.reconcileNow();

    // A long-poll from the index last told is still waiting after the worker's own reports, before and
    // during it. (An answer given after them has an index of its own: it carries them, see AssignmentDeltas.)
    const poll = f.manager.assignments(a, placed, 5_000);
    let answered = false;
    void poll.then(() => (answered = true));
    await f.report(first, { state: "running", message: "still running" });
    await Bun.sleep(20);
    expect(answered).toBe(false);

    f.manager.stopTask(first.id);
    const woken = await poll;
    expect(woken.index).not.toBe(placed);
    expect(woken.assignments.find((x) => x.task.id === first.id)?.task.desired).toBe("stopped");

    const stopping = await index();
    f.clock += 11_000;
    f.manager.checkLiveness();
    const lost = await index();
    expect(lost).not.toBe(stopping);
    // The stopped task's replacement was placed meanwhile: three tasks there, all lost.
    expect((await f.manager.assignments(a, "", 0)).assignments.map((x) => x.task.state)).toEqual(["lost", "lost", "lost"]);

    f.manager.joinNode({ role: "worker", nodeId: a }, { id: a, name: "a", address: "http://127.0.0.1:1", datacenter: "dc1", labels: {}, capacity: { cpu: 4, memory: 4096, disk: 1000 }, version: "test" });
    expect(await index()).not.toBe(lost);
  });
});

test("a node woken while its jobs are still being placed is answered once, when the burst is placed", async () => {
  const f = new ManagerFixture(undefined, { maxTasksPerJob: 10_000 });
  const a = f.join("a", 1_000_000);
  const { index } = await f.manager.assignments(a, "", 0);
  const poll = f.manager.assignments(a, index, 5_000);
  f.manager.submitJob(jobOfSize("burst", 1_000));
  const answer = await poll;
  expect(answer.assignments).toHaveLength(1_000);
  expect(f.evaluated.length).toBeGreaterThan(1);
});

function jobOfSize(name: string, count: number) {
  return { name, type: "service" as const, datacenters: [], constraints: [], tasks: [{ name: "main", image: "img", count, env: {}, labels: {}, resources: { cpu: 0.001, memory: 1, disk: 0 }, ports: [], restart: { attempts: 0, intervalMs: 60_000, delayMs: 1_000, mode: "fail" as const }, constraints: [] }] };
}
