import { type ApiClient, ApiClientError } from "../../src/client/api-client.ts";
import type { TaskView } from "../../src/model/api-types.ts";
import { isTerminal } from "../../src/model/task-state.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { runningContainersOf, sleeperJob } from "./process-cluster.ts";
import { waitFor } from "./wait-for.ts";

/**
 * Randomized operations on one job, drawn from a seed, and the check that matters after them: the
 * containers the engine runs for the job are exactly the tasks the API says run. Shared by the churn
 * tests on one manager (SQLite) and on three (etcd); each adds its own faults between the steps.
 */
export type Operation =
  | { kind: "submit"; count: number; env: string; update: boolean }
  | { kind: "submit-again" }
  | { kind: "scale"; count: number }
  | { kind: "restart-task"; pick: number }
  | { kind: "stop-task"; pick: number }
  | { kind: "stop-job" }
  | { kind: "drain"; worker: string }
  | { kind: "eligible"; worker: string };

/** Operations fired together (one, or two or three at once), then a pause. */
export interface Step {
  operations: Operation[];
  pauseMs: number;
}

export const SETTLED_WITHIN_MS = 30_000;
export const FINAL_COUNT = 3;

function drawOperation(random: () => number, workers: readonly string[]): Operation {
  const roll = random();
  const count = Math.floor(random() * 6);
  const worker = workers[Math.floor(random() * workers.length)] as string;
  if (roll < 0.25) return { kind: "submit", count, env: `v${Math.floor(random() * 4)}`, update: random() < 0.5 };
  if (roll < 0.35) return { kind: "submit-again" };
  if (roll < 0.52) return { kind: "scale", count };
  if (roll < 0.67) return { kind: "restart-task", pick: random() };
  if (roll < 0.8) return { kind: "stop-task", pick: random() };
  if (roll < 0.87) return { kind: "drain", worker };
  if (roll < 0.93) return { kind: "eligible", worker };
  return { kind: "stop-job" };
}

/** `operations` operations in steps, drawn from `random` (the caller's seeded source, which goes on to draw its faults). */
export function drawSteps(random: () => number, workers: readonly string[], operations: number): Step[] {
  const steps: Step[] = [];
  for (let drawn = 0; drawn < operations; ) {
    const together = random() < 0.25 ? 2 + Math.floor(random() * 2) : 1;
    steps.push({ operations: Array.from({ length: together }, () => drawOperation(random, workers)), pauseMs: Math.floor(random() * 300) });
    drawn += together;
  }
  return steps;
}

/** The seeds of a run: CUBE_CHURN_SEED replays one, else `count` drawn now (the first even, then alternating). */
export function seedsToRun(count: number): number[] {
  const replay = process.env.CUBE_CHURN_SEED;
  if (replay !== undefined) {
    const seed = Number(replay);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`CUBE_CHURN_SEED must be a whole number of 0 or more (as printed by [churn] seed=N), not "${replay}"`);
    return [seed];
  }
  return Array.from({ length: count }, (_, i) => Math.floor(Math.random() * 2 ** 30) * 2 + (i % 2));
}

export const seededSource = (seed: number) => seededRandom(String(seed));

/** Task ids of the job's containers the engine is running, sorted; a task run twice shows twice. */
export async function engineRunning(job: string): Promise<string[]> {
  return (await runningContainersOf(job)).map((c) => c.taskId).sort();
}

export async function apiRunning(client: ApiClient, job: string): Promise<string[]> {
  return (await client.listTasks({ job, state: "running" })).map((t) => t.id).sort();
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Runs operations on one job against the API, keeping every answer that breaks the contract: a 5xx,
 * a non-JSON error, or no answer at all. `clientFor(n)` is the client of the n-th operation (one
 * manager, or each to a manager of its own).
 */
export class ChurnRun {
  readonly violations: string[] = [];
  readonly answers = { ok: 0, rejected: 0, unanswered: 0 };
  private lastSpec: string;
  private n = 0;

  /** @param unansweredAllowed a paused manager may leave a call without an answer (its fate unknown, which the client says): not a violation then. */
  constructor(
    private readonly job: string,
    private readonly clientFor: (n: number) => ApiClient,
    private readonly unansweredAllowed = false,
  ) {
    this.lastSpec = sleeperJob(job, 1);
  }

  get performed(): number {
    return this.n;
  }

  /** Each step's operations at once, then its pause; `between(i)` after step i (a fault to inject). */
  async steps(steps: Step[], between: (i: number) => Promise<void> = async () => {}): Promise<void> {
    for (const [i, step] of steps.entries()) {
      await Promise.all(step.operations.map((op) => this.perform(op)));
      await Bun.sleep(step.pauseMs);
      await between(i);
    }
  }

  async perform(operation: Operation): Promise<void> {
    const n = ++this.n;
    const client = this.clientFor(n);
    const label = `#${n}`;
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
      else if (e instanceof ApiClientError && e.status === 0 && this.unansweredAllowed) this.answers.unanswered++;
      else this.violations.push(`${what} → ${e instanceof ApiClientError ? (e.status === 0 ? "no answer" : `HTTP ${e.status} ${e.code}`) : "an answer that is not JSON"}: ${e.message}`);
    }
  }
}

/**
 * Every worker back in placement, a final version of `FINAL_COUNT` tasks, then: null once the engine
 * runs exactly the API's running tasks and still does 2 s later (and `alsoSettled` finds nothing
 * wrong then), and once a stop leaves nothing running; else what was seen (`describe` adds the
 * cluster's view for a failure).
 */
export async function settlesThenStops(
  client: ApiClient,
  job: string,
  workers: readonly string[],
  describe: () => Promise<string>,
  alsoSettled: (running: string[]) => Promise<string | null> = async () => null,
): Promise<string[]> {
  for (const worker of workers) await client.setNodeEligibility(worker, true);
  await client.submitJob(sleeperJob(job, FINAL_COUNT, { env: { CHURN: "final" } }), "json");
  const problems: string[] = [];
  const since = Date.now();
  let settled: string[] | undefined;
  try {
    settled = await waitFor(`the engine's running containers of ${job} to be exactly the API's ${FINAL_COUNT} running tasks, none of them stopping and none other waiting`, async () => {
      const [tasks, engine] = await Promise.all([client.listTasks({ job }), engineRunning(job)]);
      // A replaced task still stopping and its replacement not started yet also make FINAL_COUNT running: not settled.
      const live = tasks.filter((t) => !isTerminal(t.state));
      const api = live.map((t) => t.id).sort();
      return live.length === FINAL_COUNT && live.every((t) => t.state === "running" && t.desired === "running") && sameList(api, engine) ? api : undefined;
    }, SETTLED_WITHIN_MS, 250);
  } catch (err) {
    problems.push(`${(err as Error).message}\n${await describe()}`);
  }
  if (settled) {
    const settledMs = Date.now() - since;
    // Equal once is not settled: a late start by a stale task runner would show here.
    await Bun.sleep(2_000);
    const [api, engine] = await Promise.all([apiRunning(client, job), engineRunning(job)]);
    if (!sameList(api, settled) || !sameList(engine, settled)) {
      problems.push(`settled on ${settled.join(",")}, but 2 s later the API runs ${api.join(",")} and the engine ${engine.join(",")}\n${await describe()}`);
    } else {
      console.log(`[churn] ${job}: the engine runs exactly the API's ${FINAL_COUNT} running tasks ${settledMs} ms after the final submit`);
      const problem = await alsoSettled(settled);
      if (problem) problems.push(problem);
    }
  }
  await client.stopJob(job);
  try {
    await waitFor(`no running container of ${job} after it was stopped`, async () => ((await engineRunning(job)).length === 0 && (await apiRunning(client, job)).length === 0 ? true : undefined), SETTLED_WITHIN_MS, 250);
  } catch (err) {
    problems.push(`${(err as Error).message}\n${await describe()}`);
  }
  await client.stopJob(job, true);
  return problems;
}
