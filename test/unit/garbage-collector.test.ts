import { describe, expect, test } from "bun:test";
import { collectGarbage } from "../../src/manager/garbage.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { makeJobSpec, makeTaskSpec } from "./fixtures.ts";
import { ManagerFixture } from "./manager-fixture.ts";

const AFTER_MS = 60_000;

/** A manager whose turns are timed by a clock that moves 1 ms each time it is read: a turn of 2 ms visits one or two jobs. */
function fixture(store: Store = openStore(":memory:")) {
  let turnClock = 0;
  const f = new ManagerFixture(store, { gcAfterMs: AFTER_MS, keepVersions: 2, maxTasksPerJob: 10_000, turnClock: () => turnClock++ });
  /** Runs a timed pass to its end, calling `between` after each turn of the event loop; returns how many turns it took. */
  const timedPass = async (between: (turn: number) => void = () => {}) => {
    let ended = false;
    const pass = f.manager.startGarbagePass().then(() => (ended = true));
    let turns = 0;
    while (!ended) {
      await new Promise((resolve) => setImmediate(resolve));
      if (!ended) between(++turns);
    }
    await pass;
    return turns;
  };
  return { f, timedPass };
}

/** Reports each of the job's live tasks started, then ended in `end`, from the node it was placed on. */
async function runToEnd(f: ManagerFixture, name: string, end: "completed" | "stopped"): Promise<void> {
  for (const [nodeId, tasks] of Map.groupBy(f.live(name), (t) => t.nodeId as string)) {
    await f.manager.reportTasks(nodeId, tasks.flatMap((t) => [{ taskId: t.id, state: "running" as const, message: "started" }, { taskId: t.id, state: end, message: "ended", exitCode: 0 }]));
  }
}

/** A batch job of `count` tasks (0.1 cpu each), run to completion where they were placed. */
async function finishedBatch(f: ManagerFixture, name: string, count: number): Promise<void> {
  f.submit(name, count, 1, { type: "batch" });
  await runToEnd(f, name, "completed");
}

/** A service of `count` tasks (0.1 cpu each), stopped, its tasks ended. */
async function stoppedService(f: ManagerFixture, name: string, count: number): Promise<void> {
  f.submit(name, count, 1);
  f.manager.stopJob(name, false);
  f.manager.reconcileNow();
  await runToEnd(f, name, "stopped");
}

describe("garbage collection in turns", () => {
  test("a timed pass visits the jobs over several turns and forgets exactly what a whole pass would", async () => {
    const { f, timedPass } = fixture();
    f.join("a", 1_000_000);
    for (let i = 0; i < 6; i++) await finishedBatch(f, `done${i}`, 3);
    f.submit("web", 2, 1);
    // Three versions of web: the oldest one goes (two kept).
    f.manager.scaleJob("web", "http", 3);
    f.manager.scaleJob("web", "http", 2);
    f.manager.reconcileNow();
    f.clock += AFTER_MS + 1;
    const { state } = f.manager;
    const jobs = [...state.jobNames()].map((name) => state.job(name)?.job).filter((j) => j !== undefined);
    const versions = new Map(jobs.map((j) => [j.spec.name, [...(state.job(j.spec.name)?.versions.keys() ?? [])]]));
    const expected = collectGarbage(jobs, [...state.tasks.all()], versions, f.clock, { afterMs: AFTER_MS, keepVersions: 2 });
    expect(expected.jobs).toEqual(["done0", "done1", "done2", "done3", "done4", "done5"]);
    expect(expected.versions).toEqual([{ job: "web", version: 1 }]);
    expect(expected.tasks).toEqual([]);

    const turns = await timedPass();
    expect(turns).toBeGreaterThanOrEqual(4);
    expect([...state.jobNames()]).toEqual(["web"]);
    expect([...(state.job("web")?.versions.keys() ?? [])].sort()).toEqual([2, 3]);
    expect(f.live("web")).toHaveLength(2);
  });

  test("a stopped job of 1,200 tasks loses them 500 a turn, then goes itself; a finished batch job goes whole", async () => {
    const store = openStore(":memory:");
    const deletes: { tasks: number; jobs: number }[] = [];
    // Per store transaction (the commits inside one are savepoints of it).
    const transaction = store.transaction.bind(store);
    let depth = 0;
    store.transaction = <T>(fn: () => T): T => {
      if (depth === 0) deletes.push({ tasks: 0, jobs: 0 });
      depth++;
      try {
        return transaction(fn);
      } finally {
        depth--;
      }
    };
    const deleteTask = store.deleteTask.bind(store);
    store.deleteTask = (id: string) => {
      (deletes.at(-1) as { tasks: number }).tasks++;
      deleteTask(id);
    };
    const deleteJob = store.deleteJob.bind(store);
    store.deleteJob = (name: string) => {
      (deletes.at(-1) as { jobs: number }).jobs++;
      deleteJob(name);
    };
    const { f, timedPass } = fixture(store);
    for (let i = 0; i < 30; i++) f.join(`n${i}`, 1_000_000);
    await stoppedService(f, "big", 1_200);
    await finishedBatch(f, "nightly", 600);
    f.clock += AFTER_MS + 1;
    deletes.length = 0;
    await timedPass();
    expect(deletes.filter((d) => d.tasks + d.jobs > 0)).toEqual([
      { tasks: 500, jobs: 0 },
      { tasks: 500, jobs: 0 },
      { tasks: 0, jobs: 1 },
      { tasks: 0, jobs: 1 },
    ]);
    expect([...f.manager.state.jobNames()]).toEqual([]);
    expect([...f.manager.state.tasks.all()]).toEqual([]);
  });

  test("each job is judged when its turn comes: one submitted again during the pass stays", async () => {
    const { f, timedPass } = fixture();
    f.join("a", 1_000_000);
    for (const name of ["a1", "a2", "a3", "a4", "a5", "z"]) await finishedBatch(f, name, 1);
    f.clock += AFTER_MS + 1;
    const turns = await timedPass((turn) => {
      if (turn === 1) f.manager.submitJob(makeJobSpec("z", [makeTaskSpec({ count: 1 })], { type: "batch" }));
    });
    expect(turns).toBeGreaterThan(1);
    expect([...f.manager.state.jobNames()]).toEqual(["z"]);
  });

  test("a whole pass (collect) forgets the same in one go", async () => {
    const { f } = fixture();
    for (let i = 0; i < 30; i++) f.join(`n${i}`, 1_000_000);
    await stoppedService(f, "big", 1_200);
    await finishedBatch(f, "small", 2);
    f.clock += AFTER_MS + 1;
    expect(f.manager.collectGarbage()).toEqual({ tasks: 1_000, versions: 0, jobs: 2 });
    expect([...f.manager.state.jobNames()]).toEqual([]);
  });
});
