import { afterAll, beforeAll, describe, test } from "bun:test";
import { requireDocker } from "../support/docker.ts";
import { uniqueJobName } from "../support/local-cluster.ts";
import { NetworkNamespace, removeLeftoverNamespaces } from "../support/netns.ts";
import { HEARTBEAT_TTL_MS, ProcessCluster, runningContainersOf, sleeperJob } from "../support/process-cluster.ts";
import { requireBinary } from "../support/processes.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * A real network partition: one worker runs in its own network namespace, joined to the host by a
 * veth pair whose host end is taken down for 30 s. The manager (heartbeat TTL 3 s) and two workers
 * stay on the host; all share one Docker engine, so containers are told apart by their node label.
 */
const ON_HOST = ["pw1", "pw2"];
const CUT_OFF = "pw3";
const COUNT = 2;
const CUT_MS = 30_000;
const MOVED_WITHIN_MS = HEARTBEAT_TTL_MS + 2_000;
const HEALED_WITHIN_MS = 5_000;

let ns: NetworkNamespace;
let cluster: ProcessCluster;

beforeAll(async () => {
  requireBinary();
  await requireDocker();
  await removeLeftoverNamespaces();
  ns = await NetworkNamespace.create();
  // 0.0.0.0: the worker in the namespace reaches the manager at the host end of the veth.
  cluster = await ProcessCluster.start({ workers: ON_HOST, bind: "0.0.0.0" });
  await cluster.startWorker(CUT_OFF, ns);
  await cluster.waitForReadyNodes(3);
}, 60_000);

afterAll(async () => {
  await cluster?.close();
  await ns?.close();
});

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

async function apiRunning(job: string): Promise<{ id: string; nodeId: string | null }[]> {
  return (await cluster.client.listTasks({ job, state: "running" })).filter((t) => t.desired === "running");
}

/** Fails with the job's tasks and containers and the cut-off worker's last words, so a failure explains itself. */
async function explained<T>(job: string, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    // Heartbeats that fail together log the same line several times over.
    const log = [...new Set(cluster.outputOf(CUT_OFF).trim().split("\n"))].slice(-15).join("\n");
    throw new Error(`${(err as Error).message}\n${await cluster.describeJob(job)}\nlast lines of ${CUT_OFF}:\n${log}`);
  }
}

/** Submits the job while only the cut-off node may take tasks, so every task starts there; the others take tasks again after. */
async function submitToCutOffNode(job: string, extra: Record<string, unknown> = {}): Promise<void> {
  const cutOffId = cluster.nodeId(CUT_OFF);
  for (const name of ON_HOST) await cluster.client.setNodeEligibility(name, false);
  try {
    await cluster.client.submitJob(sleeperJob(job, COUNT, extra), "json");
    await waitFor(`${COUNT} running tasks of ${job}, all on ${CUT_OFF}`, async () => {
      const [api, engine] = await Promise.all([apiRunning(job), runningContainersOf(job)]);
      const allThere = api.length === COUNT && engine.length === COUNT && engine.every((c) => c.nodeId === cutOffId);
      return allThere && sameSet(api.map((t) => t.id), engine.map((c) => c.taskId)) ? true : undefined;
    });
  } finally {
    for (const name of ON_HOST) await cluster.client.setNodeEligibility(name, true);
  }
}

/** Waits until the API runs `COUNT` tasks of the job off the cut-off node and the engine runs exactly those there. */
async function movedAway(job: string, cutAt: number): Promise<number> {
  const cutOffId = cluster.nodeId(CUT_OFF);
  await explained(job, () =>
    waitFor(`${COUNT} tasks of ${job} running off ${CUT_OFF}, on the engine as in the API`, async () => {
      const [api, engine] = await Promise.all([apiRunning(job), runningContainersOf(job)]);
      const elsewhere = engine.filter((c) => c.nodeId !== cutOffId).map((c) => c.taskId);
      return api.length === COUNT && api.every((t) => t.nodeId !== cutOffId) && sameSet(api.map((t) => t.id), elsewhere) ? true : undefined;
    }, MOVED_WITHIN_MS, 100),
  );
  return Date.now() - cutAt;
}

/** Waits until the engine runs exactly the API's `COUNT` running tasks and the cut-off node is ready again. */
async function converged(job: string, healedAt: number): Promise<number> {
  await explained(job, () =>
    waitFor(`exactly ${COUNT} running containers of ${job} (the API's running tasks) and ${CUT_OFF} ready`, async () => {
      const [api, engine, nodes] = await Promise.all([apiRunning(job), runningContainersOf(job), cluster.client.listNodes()]);
      const ready = nodes.find((n) => n.name === CUT_OFF)?.status === "ready";
      return ready && engine.length === COUNT && sameSet(api.map((t) => t.id), engine.map((c) => c.taskId)) ? true : undefined;
    }, HEALED_WITHIN_MS, 100),
  );
  return Date.now() - healedAt;
}

async function stopJob(job: string): Promise<void> {
  await cluster.client.stopJob(job, true).catch(() => undefined);
}

describe("a worker cut off from the manager by a network partition", () => {
  test(`its tasks run elsewhere within TTL + 2 s; ${HEALED_WITHIN_MS / 1000} s after the link is back exactly count containers run and the node is ready`, async () => {
    const job = uniqueJobName("partition");
    try {
      await submitToCutOffNode(job);
      const cutAt = Date.now();
      await ns.cut();
      const movedMs = await movedAway(job, cutAt);
      console.log(`[partition] link down → ${COUNT} tasks running elsewhere in ${movedMs} ms (heartbeat TTL ${HEARTBEAT_TTL_MS} ms)`);
      await Bun.sleep(cutAt + CUT_MS - Date.now());
      await ns.heal();
      const healedMs = await converged(job, Date.now());
      console.log(`[partition] link back after ${CUT_MS} ms → exactly ${COUNT} containers and ${CUT_OFF} ready in ${healedMs} ms`);
    } finally {
      await ns.heal();
      await stopJob(job);
    }
  }, 90_000);

  test("with disconnect.stop_after shorter than the cut, the cut-off worker has stopped its copies before the link comes back", async () => {
    const job = uniqueJobName("stop-after");
    const cutOffId = cluster.nodeId(CUT_OFF);
    try {
      await cluster.waitForReadyNodes(3);
      await submitToCutOffNode(job, { disconnect: { stop_after: "5s" } });
      const cutAt = Date.now();
      await ns.cut();
      await movedAway(job, cutAt);
      await explained(job, () =>
        waitFor(`no running container of ${job} left on the cut-off ${CUT_OFF} before the link comes back`, async () => {
          const left = (await runningContainersOf(job)).filter((c) => c.nodeId === cutOffId);
          return left.length === 0 ? true : undefined;
        }, cutAt + CUT_MS - Date.now(), 100),
      );
      const stoppedMs = Date.now() - cutAt;
      console.log(`[partition] stop_after 5 s: the cut-off worker stopped its copies ${stoppedMs} ms after the link went down`);
      await Bun.sleep(cutAt + CUT_MS - Date.now());
      await ns.heal();
      const healedMs = await converged(job, Date.now());
      console.log(`[partition] link back → exactly ${COUNT} containers and ${CUT_OFF} ready in ${healedMs} ms`);
    } finally {
      await ns.heal();
      await stopJob(job);
    }
  }, 90_000);
});
