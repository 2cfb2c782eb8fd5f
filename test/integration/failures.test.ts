import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../../src/client/api-client.ts";
import { LABELS } from "../../src/driver/driver.ts";
import type { JobDetail } from "../../src/model/api-types.ts";
import { containersWithLabel, docker, removeContainersWithLabel, requireDocker } from "../support/docker.ts";
import { releaseServiceAddresses } from "../support/service-addresses.ts";
import { freePort } from "../support/free-port.ts";
import { uniqueJobName } from "../support/local-cluster.ts";
import { sleeperJob } from "../support/process-cluster.ts";
import { CubeProcess, managerTokens, requireBinary } from "../support/processes.ts";
import { jobWhen as waitForJob, waitFor } from "../support/wait-for.ts";

/**
 * Real processes of the compiled binary, killed and restarted: a manager with a 3 s heartbeat TTL
 * and two workers heartbeating every second.
 */
const dataDir = mkdtempSync(join(tmpdir(), "cube-failures-"));
const port = freePort();
const url = `http://127.0.0.1:${port}`;
const client = new ApiClient(url);
const started: CubeProcess[] = [];
const nodeIds = new Set<string>();
let manager: CubeProcess;
const workers = new Map<string, CubeProcess>();

function startManager(): CubeProcess {
  const p = new CubeProcess(["serve", "--role=manager", `--port=${port}`, "--bind=127.0.0.1", `--data-dir=${join(dataDir, "manager")}`, "--heartbeat-ttl=3s"]);
  started.push(p);
  return p;
}

async function startWorker(name: string): Promise<CubeProcess> {
  const joinToken = managerTokens(join(dataDir, "manager")).join;
  const p = new CubeProcess(["serve", "--role=worker", `--join=${url}`, `--join-token=${joinToken}`, "--port=0", "--bind=127.0.0.1", `--name=${name}`, `--data-dir=${join(dataDir, "workers")}`, "--heartbeat-interval=1s"]);
  started.push(p);
  workers.set(name, p);
  await p.waitForOutput(/worker listening/);
  return p;
}

const jobWhen = (name: string, what: string, done: (job: JobDetail) => boolean, timeoutMs?: number) => waitForJob(client, name, what, done, timeoutMs);

const running = (job: JobDetail) => job.tasks.filter((t) => t.state === "running" && t.desired === "running");

/** Containers of a job that the engine is running, by task id. */
async function runningContainers(job: string): Promise<Map<string, { id: string; node: string }>> {
  const list = await containersWithLabel(LABELS.job, job);
  return new Map(list.filter((c) => c.State === "running").map((c) => [c.Labels[LABELS.taskId] as string, { id: c.Id, node: c.Labels[LABELS.nodeId] as string }]));
}

beforeAll(async () => {
  requireBinary();
  await requireDocker();
  manager = startManager();
  await manager.waitForOutput(/manager listening/);
  client.useToken(managerTokens(join(dataDir, "manager")).management);
  await startWorker("fw1");
  await startWorker("fw2");
  const nodes = await waitFor("2 ready nodes", async () => {
    const list = await client.listNodes();
    return list.length === 2 && list.every((n) => n.status === "ready") ? list : undefined;
  });
  for (const n of nodes) nodeIds.add(n.id);
});

afterAll(async () => {
  for (const p of started) await p.stop("SIGKILL");
  for (const id of nodeIds) await removeContainersWithLabel(LABELS.nodeId, id);
  await releaseServiceAddresses(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
});

describe("a worker killed with SIGKILL", () => {
  test("its service tasks run elsewhere after the heartbeat TTL, and when it returns the moved tasks are not duplicated", async () => {
    const name = uniqueJobName("moved");
    await client.submitJob(sleeperJob(name, 2), "json");
    const before = await jobWhen(name, "2 running tasks", (j) => running(j).length === 2);
    const victim = before.tasks[0]?.nodeName as string;
    const killedAt = Date.now();
    await workers.get(victim)?.stop("SIGKILL");
    await jobWhen(name, "2 running tasks, none on the killed node", (j) => running(j).length === 2 && running(j).every((t) => t.nodeName !== victim), 20_000);
    const movedMs = Date.now() - killedAt;
    console.log(`[failures] worker killed → its tasks running elsewhere in ${movedMs} ms (heartbeat TTL 3 s)`);
    const down = (await client.listNodes()).find((n) => n.name === victim);
    expect(down?.status).toBe("down");

    await startWorker(victim);
    await waitFor("the node ready again", async () => ((await client.listNodes()).find((n) => n.name === victim)?.status === "ready" ? true : undefined));
    const job = await jobWhen(name, "the lost task stopped", (j) => j.tasks.every((t) => t.state !== "lost"));
    expect(job.tasks.filter((t) => t.state === "stopped").length).toBeGreaterThanOrEqual(1);
    const containers = await waitFor("exactly 2 running containers", async () => {
      const map = await runningContainers(name);
      return map.size === 2 && (await containersWithLabel(LABELS.job, name)).length === 2 ? map : undefined;
    });
    expect(new Set(containers.keys())).toEqual(new Set(running(job).map((t) => t.id)));
    await client.stopJob(name, true);
  });
});

describe("a worker restarted quickly", () => {
  test("re-adopts its running containers without restarting them and removes containers of tasks stopped meanwhile", async () => {
    const kept = uniqueJobName("kept");
    const dropped = uniqueJobName("dropped");
    const pin = { constraints: [{ attribute: "node.name", operator: "=", value: "fw2" }] };
    await client.submitJob(sleeperJob(kept, 1, pin), "json");
    await client.submitJob(sleeperJob(dropped, 1, pin), "json");
    await jobWhen(kept, "kept running", (j) => running(j).length === 1);
    await jobWhen(dropped, "dropped running", (j) => running(j).length === 1);
    const before = await runningContainers(kept);
    const [taskId, container] = [...before.entries()][0] as [string, { id: string }];
    const startedAt = (await docker.getContainer(container.id).inspect()).State.StartedAt;

    await workers.get("fw2")?.stop("SIGKILL");
    await client.stopJob(dropped);
    await startWorker("fw2");

    await waitFor("the dropped job's container removed", async () => ((await containersWithLabel(LABELS.job, dropped)).length === 0 ? true : undefined));
    await jobWhen(dropped, "dropped task stopped", (j) => j.tasks.every((t) => t.state === "stopped"));
    const after = await runningContainers(kept);
    expect(after.get(taskId)?.id).toBe(container.id);
    expect((await docker.getContainer(container.id).inspect()).State.StartedAt).toBe(startedAt);
    const task = await client.getTask(taskId);
    expect(task.state).toBe("running");
    expect(task.restarts).toBe(0);
    await client.stopJob(kept, true);
    await client.stopJob(dropped, true);
  });

  test("SIGTERM leaves the worker's containers running", async () => {
    const name = uniqueJobName("graceful");
    await client.submitJob(sleeperJob(name, 1, { constraints: [{ attribute: "node.name", operator: "=", value: "fw1" }] }), "json");
    await jobWhen(name, "running", (j) => running(j).length === 1);
    const before = await runningContainers(name);
    expect(await workers.get("fw1")?.stop("SIGTERM")).toBe(0);
    expect(await runningContainers(name)).toEqual(before);
    await startWorker("fw1");
    await waitFor("re-adopted", async () => ((await client.getJob(name)).tasks[0]?.state === "running" ? true : undefined));
    expect(await runningContainers(name)).toEqual(before);
    await client.stopJob(name, true);
  });
});

describe("the manager killed with SIGKILL while placing a 200-task job", () => {
  test("comes back on the same data dir with every task, none duplicated, and the workers converge", async () => {
    const name = uniqueJobName("big");
    await client.submitJob(sleeperJob(name, 200), "json");
    await waitFor("placement under way", async () => ((await client.getJob(name)).tasks.some((t) => t.state === "scheduled" || t.state === "running") ? true : undefined), 10_000, 10);
    await manager.stop("SIGKILL");
    manager = startManager();
    await manager.waitForOutput(/manager listening/);

    const job = await jobWhen(name, "200 running tasks", (j) => running(j).length === 200, 180_000);
    const live = job.tasks.filter((t) => t.desired === "running");
    expect(live.length).toBe(200);
    expect(new Set(live.map((t) => t.index)).size).toBe(200);
    const containers = await waitFor("200 running containers", async () => {
      const map = await runningContainers(name);
      return map.size === 200 ? map : undefined;
    }, 60_000, 500);
    expect(new Set(containers.keys())).toEqual(new Set(live.map((t) => t.id)));
    expect((await containersWithLabel(LABELS.job, name)).length).toBe(200);
    await client.stopJob(name, true);
    await waitFor("the big job's containers removed", async () => ((await containersWithLabel(LABELS.job, name)).length === 0 ? true : undefined), 60_000, 500);
  });
});
