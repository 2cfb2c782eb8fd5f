import { describe, expect, test } from "bun:test";
import { assignmentsJson } from "../../src/api/json-text.ts";
import { AssignmentFeed } from "../../src/client/assignment-feed.ts";
import { BadRequestError, ConflictError } from "../../src/lib/errors.ts";
import { AssignmentDeltas } from "../../src/manager/assignment-deltas.ts";
import { AssignmentWatch } from "../../src/manager/assignment-watch.ts";
import { TaskTable } from "../../src/manager/task-table.ts";
import type { Assignment, AssignmentsResponse } from "../../src/model/api-types.ts";
import type { Task } from "../../src/model/task.ts";
import { isTerminal } from "../../src/model/task-state.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { makeJobSpec, makeTask, makeTaskSpec } from "./fixtures.ts";
import { ManagerFixture } from "./manager-fixture.ts";

const SEED = process.env.CUBE_DELTA_SEED ?? String(Date.now());
const spec = makeTaskSpec();
const assignmentOf = (task: Task): Assignment => ({ task, spec, jobType: "service" });
const ids = (answer: AssignmentsResponse) => answer.assignments.map((a) => a.task.id);

describe("assignment deltas", () => {
  test("a node asking from its last answer gets what came, changed or went since; from any other index, its whole list", () => {
    const watch = new AssignmentWatch();
    const tasks = new TaskTable();
    const deltas = new AssignmentDeltas(watch);
    const [a, b, c] = ["a", "b", "c"].map((id) => makeTask({ id, nodeId: "n1", state: "running" })) as [Task, Task, Task];
    tasks.put(a);
    tasks.put(b);
    tasks.put(makeTask({ id: "elsewhere", nodeId: "n2" }));
    const first = deltas.answer("n1", "", true, tasks, assignmentOf);
    expect(first.removed).toBeUndefined();
    expect(ids(first)).toEqual(["a", "b"]);

    watch.bump("n1");
    tasks.put({ ...b, desired: "stopped" });
    tasks.put(c);
    tasks.put({ ...a, state: "completed" });
    const second = deltas.answer("n1", first.index, true, tasks, assignmentOf);
    expect(second.index).not.toBe(first.index);
    expect(ids(second).sort()).toEqual(["b", "c"]);
    expect(second.assignments.find((x) => x.task.id === "b")?.task.desired).toBe("stopped");
    expect(second.removed).toEqual(["a"]);

    // Nothing changed: an empty delta, same index.
    expect(deltas.answer("n1", second.index, true, tasks, assignmentOf)).toEqual({ index: second.index, assignments: [], removed: [] });
    // The worker's own report changed a task without waking it: the answer carrying it has an index of its own.
    tasks.put({ ...c, state: "running", message: "started" });
    const own = deltas.answer("n1", second.index, true, tasks, assignmentOf);
    expect(own.index).not.toBe(second.index);
    expect(ids(own)).toEqual(["c"]);
    // An answer the worker never got: it asks from the index before, and is told everything.
    expect(deltas.answer("n1", second.index, true, tasks, assignmentOf)).toEqual({ index: own.index, assignments: expect.any(Array) });
    expect(ids(deltas.answer("n1", own.index, false, tasks, assignmentOf)).sort()).toEqual(["b", "c"]);
    // A request the worker gave up on is answered whole and takes a change (an own report): it gets an
    // index of its own, so the worker, asking from the index it holds, is told the change too.
    tasks.put({ ...c, state: "running", message: "healthy", health: "healthy" });
    const held = deltas.answer("n1", own.index, true, tasks, assignmentOf);
    tasks.put({ ...c, state: "running", message: "unhealthy", health: "unhealthy" });
    const abandoned = deltas.answer("n1", "an index from before", true, tasks, assignmentOf);
    expect(abandoned.index).not.toBe(held.index);
    const after = deltas.answer("n1", held.index, true, tasks, assignmentOf);
    expect(after.assignments.find((x) => x.task.id === "c")?.task.health).toBe("unhealthy");
    // A reloaded state is another table: whole lists again.
    const reloaded = new TaskTable();
    reloaded.put(c);
    expect(deltas.answer("n1", own.index, true, reloaded, assignmentOf).removed).toBeUndefined();
  });

  test("the feed keeps the whole list from the deltas and asks for the whole list again after a failed call", async () => {
    const answers: AssignmentsResponse[] = [];
    const asked: boolean[] = [];
    const feed = new AssignmentFeed({
      assignments: async (_node, _index, _wait, _signal, options) => {
        asked.push(options?.delta === true);
        const answer = answers.shift();
        if (!answer) throw new Error("connection reset");
        return answer;
      },
    });
    const [a, b] = [makeTask({ id: "a" }), makeTask({ id: "b" })];
    answers.push({ index: "e.1", assignments: [assignmentOf(a), assignmentOf(b)] });
    expect(ids(await feed.next("n1", "", 0))).toEqual(["a", "b"]);
    answers.push({ index: "e.2", assignments: [assignmentOf({ ...a, state: "running" })], removed: ["b"] });
    const merged = await feed.next("n1", "e.1", 0);
    expect(merged.assignments.map((x) => [x.task.id, x.task.state])).toEqual([["a", "running"]]);
    await expect(feed.next("n1", "e.2", 0)).rejects.toThrow("connection reset");
    // From an index it does not hold (another node, an older answer), it asks for the whole list.
    answers.push({ index: "e.3", assignments: [] });
    await feed.next("n1", "e.0", 0);
    expect(asked).toEqual([false, true, true, false]);
  });
});

/**
 * Random placements, updates, scales, stops, reports and lost nodes, with answers lost on the way and
 * requests the worker gave up on answered now and then: each node's feed, built from deltas, must
 * always hold exactly the tasks the manager wants on that node, as they are now.
 */
test("a worker's list built from deltas is always the manager's list for its node, through random changes and lost answers", async () => {
  const random = seededRandom(SEED);
  console.log(`[deltas] seed=${SEED} (replay: CUBE_DELTA_SEED=${SEED})`);
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
  const f = new ManagerFixture();
  const nodes = ["n1", "n2", "n3"].map((name) => f.join(name, 100_000));
  let lose = false;
  const wire = {
    async assignments(nodeId: string, index: string, _wait: number, signal?: AbortSignal, options?: { delta?: boolean }) {
      const answer = JSON.parse(assignmentsJson(await f.manager.assignments(nodeId, index, 0, signal, options?.delta))) as AssignmentsResponse;
      if (answer.removed !== undefined) deltas++;
      if (lose) throw new Error("the answer was lost on the way");
      return answer;
    },
  };
  const feeds = new Map(nodes.map((n) => [n, { feed: new AssignmentFeed(wire), index: "" }]));
  const jobs = new Set<string>();
  let deltas = 0;
  const live = () => [...jobs].flatMap((j) => f.tasks(j)).filter((t) => !isTerminal(t.state));

  /** One random change; a request that does not fit the state now (a task already stopping, say) is refused, as by the API. */
  const change = async (step: number): Promise<void> => {
    const roll = random();
    const job = pick([...jobs]);
    const task = pick(live().filter((t) => t.nodeId !== null));
    if (roll < 0.2 || !job) {
      const name = random() < 0.5 && job ? job : `j${step}`;
      jobs.add(name);
      f.manager.submitJob(makeJobSpec(name, [{ count: 1 + Math.floor(random() * 4), image: `img:${Math.floor(random() * 3)}`, resources: { cpu: 0.01, memory: 8, disk: 0 } }]));
    } else if (roll < 0.3) {
      f.manager.scaleJob(job, "http", Math.floor(random() * 5));
    } else if (roll < 0.35) {
      f.manager.stopJob(job, false);
    } else if (roll < 0.7 && task) {
      const state = pick(["running", "running", "failed", "completed"] as const) ?? "running";
      await f.report(task, { state, message: state, ...(state === "running" ? {} : { exitCode: state === "failed" ? 1 : 0 }) });
    } else if (roll < 0.75 && task) {
      f.manager.stopTask(task.id);
    } else if (roll < 0.8) {
      // One node stops heartbeating: it goes down and its tasks are lost (and placed on the others).
      f.clock += 11_000;
      const silent = pick(nodes);
      for (const n of nodes) if (n !== silent) f.manager.heartbeat(n, { cpuPercent: 1, memoryUsedMb: 1, diskUsedMb: 1, at: f.clock });
      f.manager.checkLiveness();
    }
  };

  for (let step = 0; step < 300; step++) {
    try {
      await change(step);
    } catch (err) {
      if (!(err instanceof ConflictError || err instanceof BadRequestError)) throw err;
    }
    f.clock += 1_000;
    f.manager.reconcileNow();

    for (const node of nodes) {
      const watcher = feeds.get(node) as { feed: AssignmentFeed; index: string };
      // A request the worker gave up on (its connection timed out), answered all the same.
      if (random() < 0.1) await wire.assignments(node, pick(["", "an index from before", watcher.index]) ?? "", 0, undefined, { delta: true });
      lose = random() < 0.1;
      try {
        const answer = await watcher.feed.next(node, watcher.index, 0);
        watcher.index = answer.index;
      } catch (err) {
        expect((err as Error).message).toBe("the answer was lost on the way");
        continue;
      } finally {
        lose = false;
      }
      // Asked again at once: nothing changed, and the list it keeps is the same.
      const again = await watcher.feed.next(node, watcher.index, 0);
      watcher.index = again.index;
      const held = again.assignments;
      const view = (t: Task) => `${t.id} ${t.state} ${t.desired} v${t.jobVersion} ${t.message}`;
      const wanted = [...jobs].flatMap((j) => f.tasks(j)).filter((t) => t.nodeId === node && !isTerminal(t.state));
      expect(held.map((a) => view(a.task)).sort()).toEqual(wanted.map(view).sort());
    }
  }
  expect(deltas).toBeGreaterThan(100);
});
