import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ChurnRun, drawSteps, type Step, seededSource, seedsToRun, settlesThenStops } from "../support/churn.ts";
import { requireDocker } from "../support/docker.ts";
import { uniqueJobName } from "../support/local-cluster.ts";
import { ProcessCluster } from "../support/process-cluster.ts";
import { requireBinary } from "../support/processes.ts";

/**
 * Issue 10's promise under churn: whatever mix of submits (with and without an update strategy),
 * scales, task restarts, task stops, job stops, node drains and eligibility a job goes through (some fired at once, in one run with a worker killed and restarted), the
 * API answers every call with a success or a 4xx, and once it settles the containers the engine
 * runs for the job are exactly the tasks the API says run. Seeds are drawn per run and printed;
 * CUBE_CHURN_SEED=N replays one. The seed decides everything drawn, including the kill: odd seeds kill.
 */
const WORKERS = ["cw1", "cw2", "cw3"];
const OPERATIONS = 40;

interface Plan {
  steps: Step[];
  kill: { afterStep: number; worker: string; downMs: number } | null;
}

/** The whole run drawn from the seed up front, so a printed seed replays the same sequence. */
function planChurn(seed: number): Plan {
  const random = seededSource(seed);
  const steps = drawSteps(random, WORKERS, OPERATIONS);
  // Down for 1-5 s: sometimes back before the 3 s heartbeat TTL, sometimes after its tasks were moved.
  const kill = seed % 2 === 1 ? { afterStep: Math.floor(steps.length / 2), worker: WORKERS[Math.floor(random() * WORKERS.length)] as string, downMs: 1_000 + Math.floor(random() * 4_000) } : null;
  return { steps, kill };
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

describe("randomized operations on one job, on 3 workers", () => {
  for (const seed of seedsToRun(3)) {
    const plan = planChurn(seed);
    const killing = plan.kill ? `, ${plan.kill.worker} killed with SIGKILL and restarted ${plan.kill.downMs} ms later` : "";
    test(`seed ${seed}${killing}: every answer is a success or a 4xx, and the engine settles on exactly the API's running tasks`, async () => {
      console.log(`[churn] seed=${seed} (replay: CUBE_CHURN_SEED=${seed})${killing}`);
      const job = uniqueJobName(`churn-${seed}`);
      const run = new ChurnRun(job, () => cluster.client);
      const failures: string[] = [];
      const startedAt = Date.now();
      // The kill happens between two steps, the restart alongside later ones.
      let restarted: Promise<void> = Promise.resolve();
      try {
        await run.steps(plan.steps, async (i) => {
          if (plan.kill?.afterStep !== i) return;
          const { worker, downMs } = plan.kill;
          await cluster.killWorker(worker);
          restarted = Bun.sleep(downMs)
            .then(() => cluster.startWorker(worker))
            .catch((err: Error) => void failures.push(`restarting ${worker} failed: ${err.message}`));
        });
      } finally {
        await restarted;
      }
      console.log(`[churn] seed=${seed}: ${run.performed} operations in ${Date.now() - startedAt} ms, answers ${JSON.stringify(run.answers)}`);
      failures.push(...run.violations, ...(await settlesThenStops(cluster.client, job, WORKERS, () => cluster.describeJob(job))));
      expect(failures).toEqual([]);
    }, 150_000);
  }
});
