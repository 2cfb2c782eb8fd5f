import { describe, expect, test } from "bun:test";
import { STEP_WRITES } from "../../src/manager/evaluator.ts";
import type { Task } from "../../src/model/task.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { makeJobSpec, makeTaskSpec } from "./fixtures.ts";
import { ManagerFixture } from "./manager-fixture.ts";

describe("work proportional to the change", () => {
  test("a change evaluates only the jobs it concerns; heartbeats and a task that starts evaluate nothing", async () => {
    const f = new ManagerFixture();
    f.join("a");
    f.join("b");
    for (let i = 0; i < 10; i++) f.submit(`job${i}`, 2);
    expect(f.takeEvaluated()).toEqual(Array.from({ length: 10 }, (_, i) => `job${i}`));

    const [task] = f.live("job3");
    await f.report(task as NonNullable<typeof task>, { state: "running", message: "started" });
    f.manager.heartbeat(task?.nodeId as string, { cpuPercent: 1, memoryUsedMb: 1, diskUsedMb: 1, at: f.clock });
    f.manager.reconcileNow();
    expect(f.takeEvaluated()).toEqual([]);

    await f.report(task as NonNullable<typeof task>, { state: "failed", message: "exit code 1", exitCode: 1 });
    f.manager.reconcileNow();
    expect(f.takeEvaluated()).toEqual(["job3"]);

    // A new version: its two tasks are relabeled, which the job's next evaluation sees (and finds nothing more to do).
    f.manager.scaleJob("job7", "http", 3);
    f.manager.reconcileNow();
    expect(f.takeEvaluated()).toEqual(["job7", "job7"]);
    expect(f.live("job7")).toHaveLength(3);

    // A node that joins concerns system jobs and blocked jobs only: there are none.
    f.join("c");
    f.manager.reconcileNow();
    expect(f.takeEvaluated()).toEqual([]);
  });

  test("a failed slot is refilled when its reschedule delay is due, by the job's own timer", async () => {
    const f = new ManagerFixture();
    f.join("a");
    f.submit("web");
    const [task] = f.live("web");
    await f.report(task as NonNullable<typeof task>, { state: "failed", message: "exit code 1", exitCode: 1 });
    f.manager.reconcileNow();
    expect(f.live("web")).toEqual([]);
    f.takeEvaluated();
    f.clock += 5_001;
    f.manager.reconcileNow();
    expect(f.takeEvaluated()).toEqual(["web"]);
    expect(f.live("web").map((t) => t.state)).toEqual(["scheduled"]);
  });

  test("a blocked job is evaluated again when capacity frees or a node joins, and not otherwise", async () => {
    const f = new ManagerFixture();
    f.join("small", 1024);
    f.submit("big", 1, 800, { type: "batch" });
    f.submit("next", 1, 800);
    expect(f.live("next")[0]?.message).toBe("no node can run it: 1 node: memory exhausted: needs 800 MiB, 224 free");
    expect(f.manager.state.tasks.blockedJobs()).toEqual(new Set(["next"]));
    f.takeEvaluated();

    const [big] = f.live("big");
    await f.report(big as NonNullable<typeof big>, { state: "running", message: "started" });
    f.manager.reconcileNow();
    expect(f.takeEvaluated()).toEqual([]);

    await f.report(big as NonNullable<typeof big>, { state: "completed", message: "exit code 0", exitCode: 0 });
    f.manager.reconcileNow();
    expect(f.takeEvaluated()).toEqual(["big", "next"]);
    expect(f.live("next").map((t) => t.state)).toEqual(["scheduled"]);
    expect(f.manager.state.tasks.blockedJobs()).toEqual(new Set());

    f.submit("later", 1, 800);
    expect(f.manager.state.tasks.blockedJobs()).toEqual(new Set(["later"]));
    f.takeEvaluated();
    f.join("large", 4096);
    f.manager.reconcileNow();
    expect(f.takeEvaluated()).toEqual(["later"]);
    expect(f.live("later").map((t) => t.state)).toEqual(["scheduled"]);
  });

  test(`a job of thousands of tasks is placed ${STEP_WRITES} writes at a time, each step a pass of its own`, () => {
    const f = new ManagerFixture(undefined, { maxTasksPerJob: 10_000 });
    for (let i = 0; i < 10; i++) f.join(`n${i}`, 65_536);
    f.manager.submitJob(jobOf("huge", 1_000));
    f.manager.reconcileNow();
    expect(f.takeEvaluated()).toEqual(Array.from({ length: Math.ceil(1_000 / STEP_WRITES) }, () => "huge"));
    expect(f.live("huge").every((t) => t.state === "scheduled")).toBe(true);
    expect(f.live("huge")).toHaveLength(1_000);
  });
});

test(`a drained node's tasks are stopped, and a silent node's lost, at most ${STEP_WRITES} task writes per transaction (one etcd transaction)`, async () => {
  const store = openStore(":memory:");
  const f = new ManagerFixture(store, { maxTasksPerJob: 10_000 });
  f.join("a", 1_000_000);
  f.manager.submitJob(jobOf("web", 250));
  f.manager.submitJob(jobOf("api", 250));
  f.manager.reconcileNow();
  f.join("b", 1_000_000);
  f.join("c", 1_000_000);
  for (const task of f.live("web").concat(f.live("api"))) await f.report(task, { state: "running", message: "started" });

  const taskWrites = taskWritesPerTransaction(store);
  const on = (node: string, job: string) => f.live(job).filter((t) => t.nodeId === f.manager.state.nodeByName(node)?.id && t.desired === "running");

  f.manager.drainNode("a");
  f.manager.reconcileNow();
  expect(on("a", "web")).toEqual([]);
  expect(on("a", "api")).toEqual([]);
  expect(f.live("web").filter((t) => t.desired === "running")).toHaveLength(250);
  expect(Math.max(...taskWrites)).toBeLessThanOrEqual(STEP_WRITES);

  // b now runs about half of the 500 tasks; it stops heartbeating.
  const onB = on("b", "web").length + on("b", "api").length;
  expect(onB).toBeGreaterThan(STEP_WRITES);
  f.clock += 20_000;
  for (const node of ["a", "c"]) f.manager.heartbeat(f.manager.state.nodeByName(node)?.id as string, { cpuPercent: 1, memoryUsedMb: 1, diskUsedMb: 1, at: f.clock });
  taskWrites.length = 0;
  f.manager.checkLiveness();
  expect(f.manager.state.nodeByName("b")?.status).toBe("down");
  expect(f.tasks("web").concat(f.tasks("api")).filter((t) => t.state === "lost")).toHaveLength(onB);
  expect(Math.max(...taskWrites)).toBeLessThanOrEqual(STEP_WRITES);
});

test(`a stop of a job of 1,000 tasks tells ${STEP_WRITES} to stop at once; its evaluation stops the rest, at most ${STEP_WRITES} task writes per transaction`, () => {
  const store = openStore(":memory:");
  const f = new ManagerFixture(store, { maxTasksPerJob: 10_000 });
  f.join("a", 1_000_000);
  f.manager.submitJob(jobOf("big", 1_000));
  f.manager.reconcileNow();
  const taskWrites = taskWritesPerTransaction(store);
  const stopping = () => f.tasks("big").filter((t) => t.desired === "stopped").length;

  const view = f.manager.stopJob("big", false);
  expect(view.status).toBe("stopped");
  expect(stopping()).toBe(STEP_WRITES);
  expect(taskWrites).toEqual([STEP_WRITES]);
  f.manager.reconcileNow();
  expect(stopping()).toBe(1_000);
  expect(Math.max(...taskWrites)).toBe(STEP_WRITES);
  expect(taskWrites.reduce((a, b) => a + b, 0)).toBe(1_000);
});

test("a drain moves a service with an update strategy one task at a time: a replacement that starts is what moves the next", async () => {
  const f = new ManagerFixture();
  f.join("a");
  const update = { maxParallel: 1, minHealthyTimeMs: 0, healthyDeadlineMs: 60_000, autoRevert: false };
  f.manager.submitJob(makeJobSpec("web", [makeTaskSpec({ count: 2, update })]));
  f.manager.reconcileNow();
  for (const task of f.live("web")) await f.report(task, { state: "running", message: "started" });
  const b = f.join("b");
  f.manager.drainNode("a");
  f.manager.reconcileNow();
  const leaving = () => f.live("web").filter((t) => t.nodeId !== b && t.desired === "running");
  expect(leaving()).toHaveLength(1);
  const [first] = f.live("web").filter((t) => t.nodeId === b);
  expect(first?.state).toBe("scheduled");

  f.takeEvaluated();
  await f.report(first as Task, { state: "running", message: "started" });
  f.manager.reconcileNow();
  expect(f.takeEvaluated()).toContain("web");
  expect(leaving()).toEqual([]);
});

test("a change between the steps of a big placement is honored at once: the next step reconciles again", () => {
  const f = new ManagerFixture(undefined, { maxTasksPerJob: 10_000 });
  f.join("a", 1_000_000);
  let scaledAt = 0;
  const manager = f.manager;
  const evaluations = () => f.evaluated.filter((j) => j === "huge").length;
  // On the third step, the job is scaled down to 300 (the clock moves so what comes after is told apart).
  f.evaluated.push = function (this: string[], ...jobs: string[]) {
    const n = Array.prototype.push.apply(this, jobs);
    if (evaluations() === 3 && scaledAt === 0) {
      f.clock += 1_000;
      scaledAt = f.clock;
      manager.scaleJob("huge", "main", 300);
    }
    return n;
  };
  manager.submitJob(jobOf("huge", 1_000));
  manager.reconcileNow();
  expect(scaledAt).toBeGreaterThan(0);
  const tasks = f.tasks("huge");
  expect(tasks.filter((t) => t.index >= 300 && t.createdAt >= scaledAt)).toEqual([]);
  expect(f.live("huge").filter((t) => t.desired === "running").map((t) => t.index)).toEqual(Array.from({ length: 300 }, (_, i) => i));
});

/** From now on, the task inserts and updates of each store transaction, one entry per transaction. */
function taskWritesPerTransaction(store: Store): number[] {
  const taskWrites: number[] = [];
  const transaction = store.transaction.bind(store);
  store.transaction = <T>(fn: () => T): T => {
    taskWrites.push(0);
    return transaction(fn);
  };
  for (const method of ["insertTask", "updateTask"] as const) {
    const write = store[method].bind(store);
    store[method] = (task: Task) => {
      taskWrites[taskWrites.length - 1] = (taskWrites.at(-1) ?? 0) + 1;
      write(task);
    };
  }
  return taskWrites;
}

function jobOf(name: string, count: number) {
  return { name, type: "service" as const, datacenters: [], constraints: [], tasks: [{ name: "main", image: "img", count, env: {}, labels: {}, resources: { cpu: 0.01, memory: 16, disk: 0 }, ports: [], restart: { attempts: 0, intervalMs: 60_000, delayMs: 1_000, mode: "fail" as const }, constraints: [] }] };
}
