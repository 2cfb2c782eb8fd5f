import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ApiClientError } from "../../src/client/api-client.ts";
import type { TaskView } from "../../src/model/api-types.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { requireDocker } from "../support/docker.ts";
import { uniqueJobName } from "../support/local-cluster.ts";
import { ProcessCluster, runningContainersOf, sleeperJob } from "../support/process-cluster.ts";
import { requireBinary } from "../support/processes.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * Issue 10's promise under churn: whatever mix of submits (with and without an update strategy),
 * scales, task restarts, task stops, job stops, node drains and eligibility a job goes through (some fired at once, in one run with a worker killed and restarted), the
 * API answers every call with a success or a 4xx, and once it settles the containers the engine
 * runs for the job are exactly the tasks the API says run. Seeds are drawn per run and printed;
 * CUBE_CHURN_SEED=N replays one. The seed decides everything drawn, including the kill: odd seeds kill.
 */
const WORKERS = ["cw1", "cw2", "cw3"];
const OPERATIONS = 40;
const SETTLED_WITHIN_MS = 30_000;
const FINAL_COUNT = 3;

type Operation =
  | { kind: "submit"; count: number; env: string; update: boolean }
  | { kind: "submit-again" }
  | { kind: "scale"; count: number }
  | { kind: "restart-task"; pick: number }
  | { kind: "stop-task"; pick: number }
  | { kind: "stop-job" }
  | { kind: "drain"; worker: string }
  | { kind: "eligible"; worker: string };

/** Operations fired together (one, or two or three at once), then a pause. */
interface Step {
  operations: Operation[];
  pauseMs: number;
}

interface Plan {
  steps: Step[];
  kill: { afterStep: number; worker: string; downMs: number } | null;
}

function drawOperation(random: () => number): Operation {
  const roll = random();
  const count = Math.floor(random() * 6);
  const worker = WORKERS[Math.floor(random() * WORKERS.length)] as string;
  if (roll < 0.25) return { kind: "submit", count, env: `v${Math.floor(random() * 4)}`, update: random() < 0.5 };
  if (roll < 0.35) return { kind: "submit-again" };
  if (roll < 0.52) return { kind: "scale", count };
  if (roll < 0.67) return { kind: "restart-task", pick: random() };
  if (roll < 0.8) return { kind: "stop-task", pick: random() };
  if (roll < 0.87) return { kind: "drain", worker };
  if (roll < 0.93) return { kind: "eligible", worker };
  return { kind: "stop-job" };
}

/** The whole run drawn from the seed up front, so a printed seed replays the same sequence. */
function planChurn(seed: number): Plan {
  const random = seededRandom(String(seed));
  const steps: Step[] = [];
  for (let drawn = 0; drawn < OPERATIONS; ) {
    const together = random() < 0.25 ? 2 + Math.floor(random() * 2) : 1;
    const operations = Array.from({ length: together }, () => drawOperation(random));
    steps.push({ operations, pauseMs: Math.floor(random() * 300) });
    drawn += together;
  }
  // Down for 1-5 s: sometimes back before the 3 s heartbeat TTL, sometimes after its tasks were moved.
  const kill = seed % 2 === 1 ? { afterStep: Math.floor(steps.length / 2), worker: WORKERS[Math.floor(random() * WORKERS.length)] as string, downMs: 1_000 + Math.floor(random() * 4_000) } : null;
  return { steps, kill };
}

function seedsToRun(): number[] {
  const replay = process.env.CUBE_CHURN_SEED;
  if (replay !== undefined) {
    const seed = Number(replay);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`CUBE_CHURN_SEED must be a whole number of 0 or more (as printed by [churn] seed=N), not "${replay}"`);
    return [seed];
  }
  const draw = (odd: boolean) => Math.floor(Math.random() * 2 ** 30) * 2 + (odd ? 1 : 0);
  return [draw(false), draw(true), draw(false)];
}

let cluster: ProcessCluster;

beforeAll(async () => {
  requireBinary();
  await requireDocker();
  cluster = await ProcessCluster.start({ workers: WORKERS });
}, 60_000);

afterAll(async () => {
  await cluster?.close();
});

/** Task ids of the job's containers the engine is running, sorted; a task run twice shows twice. */
async function engineRunning(job: string): Promise<string[]> {
  return (await runningContainersOf(job)).map((c) => c.taskId).sort();
}

async function apiRunning(job: string): Promise<string[]> {
  return (await cluster.client.listTasks({ job, state: "running" })).map((t) => t.id).sort();
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Runs a plan's operations against the API, keeping every answer that breaks the contract: a 5xx, a non-JSON error, or no answer at all. */
class ChurnRun {
  readonly violations: string[] = [];
  readonly answers = { ok: 0, rejected: 0 };
  private lastSpec: string;

  constructor(private readonly job: string) {
    this.lastSpec = sleeperJob(job, 1);
  }

  async perform(operation: Operation, label: string): Promise<void> {
    const { client } = cluster;
    switch (operation.kind) {
      case "submit":
        this.lastSpec = sleeperJob(this.job, operation.count, { env: { CHURN: operation.env }, ...(operation.update ? { update: { max_parallel: 1 } } : {}) });
        return this.attempt(`${label} submit count=${operation.count} env=${operation.env}${operation.update ? " update" : ""}`, () => client.submitJob(this.lastSpec, "json"));
      case "submit-again":
        return this.attempt(`${label} submit again`, () => client.submitJob(this.lastSpec, "json"));
      case "scale":
        return this.attempt(`${label} scale count=${operation.count}`, () => client.scaleJob(this.job, "main", operation.count));
      case "stop-job":
        return this.attempt(`${label} stop job`, () => client.stopJob(this.job));
      case "drain":
        return this.attempt(`${label} drain ${operation.worker}`, () => client.drainNode(operation.worker));
      case "eligible":
        return this.attempt(`${label} eligible ${operation.worker}`, () => client.setNodeEligibility(operation.worker, true));
      case "restart-task":
      case "stop-task": {
        let tasks: TaskView[] = [];
        await this.attempt(`${label} list tasks`, async () => (tasks = await client.listTasks({ job: this.job })));
        const target = tasks[Math.floor(operation.pick * tasks.length)];
        if (!target) return;
        const what = `${label} ${operation.kind} ${target.name} (${target.state}, desired ${target.desired})`;
        return this.attempt(what, () => (operation.kind === "stop-task" ? client.stopTask(target.id) : client.restartTask(target.id)));
      }
    }
  }

  private async attempt(what: string, call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
      this.answers.ok++;
    } catch (err) {
      const e = err as ApiClientError;
      // code "http" is the client's name for an error body that was not the API's JSON shape.
      if (e instanceof ApiClientError && e.status >= 400 && e.status < 500 && e.code !== "http") this.answers.rejected++;
      else this.violations.push(`${what} → ${e instanceof ApiClientError ? (e.status === 0 ? "no answer" : `HTTP ${e.status} ${e.code}`) : "an answer that is not JSON"}: ${e.message}`);
    }
  }
}

/** Runs the plan's steps in order; the kill, when planned, happens between two steps and the restart alongside later ones. */
async function runPlan(plan: Plan, run: ChurnRun, failures: string[]): Promise<number> {
  let restarted: Promise<void> = Promise.resolve();
  let n = 0;
  try {
    for (const [i, step] of plan.steps.entries()) {
      await Promise.all(step.operations.map((op) => run.perform(op, `#${++n}`)));
      await Bun.sleep(step.pauseMs);
      if (plan.kill?.afterStep !== i) continue;
      const { worker, downMs } = plan.kill;
      await cluster.killWorker(worker);
      restarted = Bun.sleep(downMs)
        .then(() => cluster.startWorker(worker))
        .catch((err: Error) => void failures.push(`restarting ${worker} failed: ${err.message}`));
    }
  } finally {
    await restarted;
  }
  return n;
}

/** Null once the engine runs exactly the API's `count` running tasks, and still does 2 s later; else what was seen. */
async function settles(job: string, count: number): Promise<string | null> {
  const since = Date.now();
  let settled: string[];
  try {
    settled = await waitFor(`the engine's running containers of ${job} to be exactly the API's ${count} running tasks`, async () => {
      const [api, engine] = await Promise.all([apiRunning(job), engineRunning(job)]);
      return api.length === count && sameList(api, engine) ? api : undefined;
    }, SETTLED_WITHIN_MS, 250);
  } catch (err) {
    return `${(err as Error).message}\n${await cluster.describeJob(job)}`;
  }
  const settledMs = Date.now() - since;
  // Equal once is not settled: a late start by a stale task runner would show here.
  await Bun.sleep(2_000);
  const [api, engine] = await Promise.all([apiRunning(job), engineRunning(job)]);
  if (!sameList(api, settled) || !sameList(engine, settled)) {
    return `settled on ${settled.join(",")}, but 2 s later the API runs ${api.join(",")} and the engine ${engine.join(",")}\n${await cluster.describeJob(job)}`;
  }
  console.log(`[churn] ${job}: the engine runs exactly the API's ${count} running tasks ${settledMs} ms after the final submit`);
  return null;
}

/** Null once neither the engine nor the API runs anything of the stopped job; else what was seen. */
async function stopsCompletely(job: string): Promise<string | null> {
  await cluster.client.stopJob(job);
  try {
    await waitFor(`no running container of ${job} after it was stopped`, async () => ((await engineRunning(job)).length === 0 && (await apiRunning(job)).length === 0 ? true : undefined), SETTLED_WITHIN_MS, 250);
    return null;
  } catch (err) {
    return `${(err as Error).message}\n${await cluster.describeJob(job)}`;
  }
}

describe("randomized operations on one job, on 3 workers", () => {
  for (const seed of seedsToRun()) {
    const plan = planChurn(seed);
    const killing = plan.kill ? `, ${plan.kill.worker} killed with SIGKILL and restarted ${plan.kill.downMs} ms later` : "";
    test(`seed ${seed}${killing}: every answer is a success or a 4xx, and the engine settles on exactly the API's running tasks`, async () => {
      console.log(`[churn] seed=${seed} (replay: CUBE_CHURN_SEED=${seed})${killing}`);
      const job = uniqueJobName(`churn-${seed}`);
      const run = new ChurnRun(job);
      const failures: string[] = [];
      const startedAt = Date.now();
      const operations = await runPlan(plan, run, failures);
      console.log(`[churn] seed=${seed}: ${operations} operations in ${Date.now() - startedAt} ms, answers ${JSON.stringify(run.answers)}`);
      failures.push(...run.violations);

      // Every node back in placement (a drain may have taken any out), then the final version.
      for (const worker of WORKERS) await cluster.client.setNodeEligibility(worker, true);
      await cluster.client.submitJob(sleeperJob(job, FINAL_COUNT, { env: { CHURN: "final" } }), "json");
      for (const problem of [await settles(job, FINAL_COUNT), await stopsCompletely(job)]) if (problem) failures.push(problem);
      await cluster.client.stopJob(job, true);
      expect(failures).toEqual([]);
    }, 150_000);
  }
});
