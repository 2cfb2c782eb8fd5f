import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ApiClient } from "../../src/client/api-client.ts";
import { ChurnRun, apiRunning, drawSteps, type Step, seededSource, seedsToRun, settlesThenStops } from "../support/churn.ts";
import { requireDocker } from "../support/docker.ts";
import { HaCluster } from "../support/ha-cluster.ts";
import { uniqueJobName } from "../support/local-cluster.ts";
import { describeJob } from "../support/process-cluster.ts";
import { requireBinary } from "../support/processes.ts";

/**
 * The churn test on highly available managers: three managers on a real 3-member etcd, three workers
 * joined to all of them, random operations on one job each sent to a manager of its own, while
 * managers are killed (SIGKILL, restarted a moment later) and paused (SIGSTOP, resumed), one after
 * the other — the leader or another, as the seed draws. Every answer is a success or a 4xx (a paused manager may leave a
 * call unanswered); once it settles, the engine runs exactly the tasks the API says run, and every
 * manager says the same. CUBE_CHURN_SEED=N replays a seed's operations and faults.
 */
const WORKERS = ["hc1", "hc2", "hc3"];
const OPERATIONS = 40;

interface Fault {
  afterStep: number;
  kind: "kill" | "pause";
  /** The leader when the fault comes, or another manager. */
  leader: boolean;
  lastsMs: number;
}

function planChurn(seed: number): { steps: Step[]; faults: Fault[]; first: number } {
  const random = seededSource(seed);
  const steps = drawSteps(random, WORKERS, OPERATIONS);
  const faults = [0.3, 0.65].map((at) => ({
    afterStep: Math.floor(steps.length * at),
    kind: random() < 0.5 ? ("kill" as const) : ("pause" as const),
    leader: random() < 0.6,
    lastsMs: 1_000 + Math.floor(random() * 4_000),
  }));
  return { steps, faults, first: Math.floor(random() * 3) };
}

let cluster: HaCluster;

beforeAll(async () => {
  await requireDocker();
  requireBinary();
  cluster = await HaCluster.start({ managers: 3, workers: WORKERS });
}, 90_000);

afterAll(async () => {
  await cluster?.close();
});

/** A client that starts at manager `first` and moves on to the others when one does not answer. */
function clientFrom(first: number): ApiClient {
  const urls = cluster.managers.map((m) => m.url);
  const order = [...urls.slice(first), ...urls.slice(0, first)];
  return new ApiClient(order.join(","), { token: cluster.token, timeoutMs: 3_000 });
}

/** Runs a fault against the leader or another live manager; resolves when it is injected, `back` when it is over. */
async function inject(fault: Fault): Promise<{ victim: number; back: Promise<void> }> {
  const leader = await cluster.leader();
  const victim = fault.leader ? leader : (leader + 1) % cluster.managers.length;
  const manager = cluster.managers[victim];
  if (!manager) throw new Error(`no manager ${victim}`);
  if (fault.kind === "kill") {
    await manager.proc.stop("SIGKILL");
    return { victim, back: Bun.sleep(fault.lastsMs).then(() => cluster.startManager(victim)) };
  }
  manager.proc.proc.kill("SIGSTOP");
  return { victim, back: Bun.sleep(fault.lastsMs).then(() => void manager.proc.proc.kill("SIGCONT")) };
}

describe("randomized operations on one job, on three managers with faults", () => {
  for (const seed of seedsToRun(2)) {
    const plan = planChurn(seed);
    const what = plan.faults.map((f) => `${f.kind} ${f.leader ? "the leader" : "a follower"} for ${f.lastsMs} ms`).join(", then ");
    test(`seed ${seed} (${what}): every answer is a success or a 4xx, and the engine settles on exactly the API's running tasks, as every manager says`, async () => {
      console.log(`[ha-churn] seed=${seed} (replay: CUBE_CHURN_SEED=${seed}): ${what}`);
      const job = uniqueJobName(`ha-churn-${seed}`);
      const clients = cluster.managers.map((_, i) => clientFrom(i));
      const run = new ChurnRun(job, (n) => clients[(plan.first + n) % clients.length] as ApiClient, true);
      const failures: string[] = [];
      const over: Promise<void>[] = [];
      const startedAt = Date.now();
      try {
        await run.steps(plan.steps, async (i) => {
          for (const fault of plan.faults.filter((f) => f.afterStep === i)) {
            // One fault at a time: the one before is over (its manager back) before the next comes.
            await Promise.all(over);
            const { victim, back } = await inject(fault);
            console.log(`[ha-churn] seed=${seed}: ${fault.kind} ${cluster.managers[victim]?.name} after step ${i}`);
            over.push(back.catch((err: Error) => void failures.push(`bringing ${cluster.managers[victim]?.name} back failed: ${err.message}`)));
          }
        });
      } finally {
        await Promise.all(over);
      }
      console.log(`[ha-churn] seed=${seed}: ${run.performed} operations in ${Date.now() - startedAt} ms, answers ${JSON.stringify(run.answers)}`);
      failures.push(...run.violations);
      await cluster.leader();
      const everyManagerAgrees = async (running: string[]) => {
        for (const [i, m] of cluster.managers.entries()) {
          const seen = await apiRunning(cluster.clientOf(i), job).catch((err: Error) => [`no answer: ${err.message}`]);
          if (seen.join(",") !== running.join(",")) return `manager ${m.name} says ${seen.join(",") || "nothing"} runs, the others ${running.join(",")}`;
        }
        return null;
      };
      failures.push(...(await settlesThenStops(cluster.client, job, WORKERS, () => describeJob(cluster.client, job), everyManagerAgrees)));
      expect(failures).toEqual([]);
    }, 180_000);
  }
});
