import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BadRequestError, ConflictError, NotFoundError } from "../../src/lib/errors.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { ClusterState } from "../../src/manager/cluster-state.ts";
import { Manager } from "../../src/manager/manager.ts";
import { StateCopy, StateFeed } from "../../src/manager/state-feed.ts";
import type { RegisterRequest, TaskReportItem } from "../../src/model/api-types.ts";
import type { JobSpec, TaskSpec } from "../../src/model/job.ts";
import { JobValidationError } from "../../src/model/job-validation-error.ts";
import { canTransition, isTerminal, TASK_STATES } from "../../src/model/task-state.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { describeState } from "./cluster-view.ts";
import { makeJobSpec } from "./fixtures.ts";

/**
 * The incremental view against the store, etcd-tester style: random commands, worker reports
 * (right, stale and foreign), node joins, deaths, drains and eligibility changes, secrets put and
 * removed, groups that depend on others or hold a named volume, and garbage collection (whole passes, and
 * timed ones whose turns interleave with the steps after them) against a manager on a SQLite file; after every step the in-memory state equals one
 * loaded from the file from scratch; once evaluations settled, evaluating every job again changes
 * nothing (no change went unevaluated) and every running job runs its secrets' current values (or, auto-reverted, kept
 * older ones); the copy the API's front thread keeps, sent what changed (StateFeed), equals memory;
 * and a manager restarted on the file sees the same tasks.
 * The seed is printed; CUBE_VIEW_SEED=<seed> replays a run.
 */
const SEED = process.env.CUBE_VIEW_SEED ?? String(Date.now());
const STEPS = Number(process.env.CUBE_VIEW_STEPS ?? 400);
const TTL_MS = 10_000;
const SECRETS = ["db", "key"];

const dir = mkdtempSync(join(tmpdir(), "cube-view-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The state without the why of pending tasks (see the fixed-point check). */
function decided(view: ReturnType<typeof describeState>) {
  return { ...view, tasks: view.tasks.map((t) => (t.state === "pending" ? { ...t, message: "", updatedAt: 0 } : t)) };
}

/** Refusals a random command may meet: the request did not fit the state, and said so. */
const refusal = (err: unknown) => err instanceof NotFoundError || err instanceof ConflictError || err instanceof BadRequestError || err instanceof JobValidationError;

test(`${STEPS} random steps: memory equals the store after each, and a restart sees the same (seed ${SEED})`, async () => {
  console.log(`[view] seed ${SEED} (replay: CUBE_VIEW_SEED=${SEED})`);
  const random = seededRandom(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const chance = (p: number) => random() < p;
  const log = createLogger("test", "error");
  const path = join(dir, "cube.db");
  let clock = 1_000_000;
  const store: Store = openStore(path);
  // Turns are timed by a counter, so how far a timed garbage pass gets in a turn replays with the seed.
  let turnTicks = 0;
  const manager = new Manager({ store, log, heartbeatTtlMs: TTL_MS, gcAfterMs: 60_000, keepVersions: 2, now: () => clock, turnClock: () => turnTicks++ });
  const nodeIds: string[] = [];
  const silent = new Set<string>();
  // The copy the API's front thread keeps, fed as it is there: deltas as JSON text.
  const copy = new StateCopy();
  const feed = new StateFeed(manager.state, (delta) => copy.apply(JSON.parse(JSON.stringify(delta))));

  const spec = (name: string): JobSpec => {
    const type = pick(["service", "service", "batch", "system"] as const);
    const group = (g: string): Partial<TaskSpec> => ({
      name: g,
      count: Math.floor(random() * 5),
      image: pick(["img:1", "img:2"]),
      resources: { cpu: pick([0.1, 0.25, 0.5, 1]), memory: pick([64, 128, 512]), disk: 0 },
      ports: chance(0.2) ? [{ name: "http", container: 80, host: pick([8080, 8081]) }] : [],
      ...(chance(0.3) ? { update: { maxParallel: 1, minHealthyTimeMs: 0, healthyDeadlineMs: 20_000, autoRevert: chance(0.5) } } : {}),
      ...(chance(0.3) ? { secrets: [{ name: pick(SECRETS), file: "/run/secrets/s" }] } : {}),
    });
    // Now and then a group of hundreds of tiny tasks, placed over several evaluation steps.
    const big = (g: string): Partial<TaskSpec> => ({ ...group(g), count: 200 + Math.floor(random() * 250), resources: { cpu: 0.001, memory: 1, disk: 0 } });
    if (type !== "system" && chance(0.05)) return makeJobSpec(name, [big("a")], { type });
    if (!chance(0.3)) return makeJobSpec(name, [group("a")], { type });
    // Two groups: b may wait for a (compose's depends_on), and keep data in a named volume that holds it to its node.
    const b = group("b");
    if (chance(0.4)) b.dependsOn = [{ task: "a", condition: pick(["started", "healthy", "completed"] as const) }];
    if (type !== "system" && chance(0.4)) b.volumes = [{ name: "data", target: "/data", readonly: false }];
    return makeJobSpec(name, [group("a"), b], { type });
  };

  const register = (name: string, id?: string) => {
    const request: RegisterRequest = { ...(id ? { id } : {}), name, address: "http://127.0.0.1:1", datacenter: "dc1", labels: { rack: pick(["r1", "r2"]) }, capacity: { cpu: pick([1, 2, 4]), memory: pick([512, 1024, 4096]), disk: 1000 }, version: "test" };
    const { node } = manager.joinNode(id ? { role: "worker", nodeId: id } : { role: "join" }, request);
    if (!id) nodeIds.push(node.id);
  };

  const liveTasks = () => [...manager.state.tasks.all()].filter((t) => t.nodeId !== null && !["completed", "failed", "stopped"].includes(t.state));

  const steps: [string, number, () => unknown][] = [
    ["submit", 4, () => manager.submitJob(spec(pick(["web", "api", "db", "cron", "agent"])))],
    ["scale", 2, () => manager.scaleJob(pick(["web", "api", "db", "cron"]), pick(["a", "b"]), Math.floor(random() * 6))],
    ["stop job", 1, () => manager.stopJob(pick(["web", "api", "db", "cron", "agent"]), chance(0.3))],
    ["revert", 1, () => manager.revertJob(pick(["web", "api", "db"]), 1 + Math.floor(random() * 3))],
    ["stop task", 1, () => manager.stopTask(pick(liveTasks())?.id ?? "none")],
    [
      "reports",
      8,
      async () => {
        const byNode = Map.groupBy(liveTasks(), (t) => t.nodeId as string);
        const nodeId = pick([...byNode.keys(), ...nodeIds]);
        if (!nodeId) return;
        const reports: TaskReportItem[] = [];
        for (let i = 0, n = 1 + Math.floor(random() * 4); i < n; i++) {
          // Mostly its own tasks and moves the table allows; some stale, some foreign, some unknown.
          const task = chance(0.85) ? pick(byNode.get(nodeId) ?? []) : pick(liveTasks());
          const from = task?.state ?? "pending";
          const allowed = TASK_STATES.filter((s) => canTransition(from, s));
          const state = chance(0.8) && allowed.length > 0 ? pick(allowed) : pick(TASK_STATES);
          const health = chance(0.3) ? pick(["starting", "healthy", "unhealthy"] as const) : undefined;
          reports.push({ taskId: task?.id ?? "no-such-task", state, message: `report ${i}`, ...(health ? { health } : {}), ...(state === "restarting" ? { nextAttemptAt: clock + 1000 } : {}) });
        }
        const results = await manager.reportTasks(nodeId, reports);
        expect(results.map((r) => r.taskId)).toEqual(reports.map((r) => r.taskId));
      },
    ],
    ["join", 1, () => (nodeIds.length < 6 ? register(`n${nodeIds.length}`) : register(`n${nodeIds.indexOf(pick(nodeIds))}`, pick(nodeIds)))],
    ["heartbeats", 3, () => {
      for (const id of nodeIds) if (!silent.has(id)) manager.heartbeat(id, { cpuPercent: 1, memoryUsedMb: 1, diskUsedMb: 1, at: clock });
    }],
    ["node goes silent", 1, () => silent.add(pick(nodeIds))],
    ["node comes back", 1, () => silent.delete(pick([...silent]))],
    ["drain", 1, () => manager.drainNode(pick(nodeIds) ?? "none")],
    ["eligibility", 1, () => manager.setNodeEligibility(pick(nodeIds) ?? "none", chance(0.6))],
    ["liveness", 2, () => manager.checkLiveness()],
    ["secret put", 2, () => manager.putSecret(pick(SECRETS), new TextEncoder().encode(pick(["one", "two", "three"])))],
    ["secret rm", 1, () => manager.removeSecret(pick(SECRETS))],
    ["gc", 1, () => {
      clock += 61_000;
      manager.collectGarbage();
    }],
    // A timed pass goes on in the turns of the steps after it (those that wait).
    ["gc in turns", 1, async () => {
      clock += 61_000;
      void manager.startGarbagePass();
      for (let turns = Math.floor(random() * 3); turns > 0; turns--) await new Promise((resolve) => setImmediate(resolve));
    }],
  ];
  const weighted = steps.flatMap((s) => Array.from({ length: s[1] }, () => s));

  register("n0");
  register("n1");
  const done: string[] = [];
  let previous = describeState(manager.state);
  for (let step = 0; step < STEPS; step++) {
    const [name, , run] = pick(weighted);
    clock += Math.floor(random() * 3_000);
    try {
      await run();
    } catch (err) {
      if (!refusal(err)) throw new Error(`step ${step} (${name}) after ${done.slice(-5).join(", ")}: ${(err as Error).stack}`);
    }
    done.push(name);
    const settled = chance(0.7);
    if (settled) manager.reconcileNow();
    const fresh = describeState(ClusterState.load(store));
    const live = describeState(manager.state);
    if (!Bun.deepEquals(live, fresh)) {
      expect({ step, name, state: live }).toEqual({ step, name, state: fresh });
    }
    // The front thread's copy, sent what changed, equals memory, heartbeats included.
    feed.flush();
    const copied = { ...describeState(copy.state as ClusterState), beats: copy.state?.nodeList().map((n) => [n.id, n.lastHeartbeat, n.stats]) };
    const expected = { ...live, beats: manager.state.nodeList().map((n) => [n.id, n.lastHeartbeat, n.stats]) };
    if (!Bun.deepEquals(copied, expected)) expect({ step, name, copy: copied }).toEqual({ step, name, copy: expected });
    // Only garbage collection forgets a task of a job that stays, and only one that had finished.
    const jobsNow = new Set(live.jobs.map((j) => j.job.spec.name));
    const tasksNow = new Set(live.tasks.map((t) => t.id));
    const forgotten = previous.tasks.filter((t) => !tasksNow.has(t.id) && jobsNow.has(t.job) && !isTerminal(t.state));
    expect({ step, name, forgotten }).toEqual({ step, name, forgotten: [] });
    previous = live;
    // A running job runs the current value of every secret it names (a new value rolled it onto it), unless
    // its version is an automatic revert of a failed rollout, which goes back to the values that worked;
    // either way the value it names is kept.
    if (settled) {
      for (const name of manager.state.jobNames()) {
        const { job, versions } = manager.state.job(name) as NonNullable<ReturnType<typeof manager.state.job>>;
        if (job.status !== "running") continue;
        const reverted = versions.get(job.version)?.autoRevert === true;
        for (const ref of job.spec.tasks.flatMap((g) => g.secrets ?? [])) {
          const secret = store.getSecret(ref.name);
          const seen = { step, after: done.slice(-6), job: name, ref: ref.name, version: ref.version, kept: secret?.versions.some((v) => v.version === ref.version) };
          expect(seen).toEqual({ ...seen, version: reverted ? ref.version : secret?.version, kept: true });
        }
      }
    }
    // Settled, the state is a fixed point: evaluating every job again changes nothing, so no change was left
    // unevaluated. (Only the why of a task that still cannot be placed may be older: capacity taken by other
    // jobs does not re-evaluate a blocked one, as it cannot unblock it.)
    if (settled && chance(0.5)) {
      const before = decided(live);
      manager.resync();
      manager.reconcileNow();
      const again = decided(describeState(manager.state));
      if (!Bun.deepEquals(again, before)) expect({ step, name, after: done.slice(-5), afterResync: again }).toEqual({ step, name, after: done.slice(-5), afterResync: before });
    }
  }
  manager.reconcileNow();
  feed.close();
  expect(manager.state.tasks.size).toBeGreaterThan(0);
  const before = [...manager.state.tasks.all()].sort((a, b) => (a.id < b.id ? -1 : 1));
  manager.stop();
  store.close();

  const reopened = openStore(path);
  const restarted = new Manager({ store: reopened, log, heartbeatTtlMs: TTL_MS, now: () => clock });
  expect([...restarted.state.tasks.all()].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(before);
  expect(describeState(restarted.state)).toEqual(describeState(ClusterState.load(reopened)));
  restarted.stop();
  reopened.close();
  console.log(`[view] seed ${SEED}: ${STEPS} steps, ${before.length} tasks at the end; ${Object.entries(Object.groupBy(done, (d) => d)).map(([k, v]) => `${k} ${v?.length}`).join(", ")}`);
}, 120_000);
