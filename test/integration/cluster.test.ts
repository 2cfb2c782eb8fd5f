import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ApiClientError } from "../../src/client/api-client.ts";
import { LABELS } from "../../src/driver/driver.ts";
import type { JobDetail } from "../../src/model/api-types.ts";
import { containersWithLabel, docker, requireDocker, TEST_IMAGE } from "../support/docker.ts";
import { startLocalCluster, uniqueJobName, type LocalCluster } from "../support/local-cluster.ts";
import { jobWhen as waitForJob, waitFor } from "../support/wait-for.ts";

let local: LocalCluster;

beforeAll(async () => {
  await requireDocker();
  local = await startLocalCluster(3);
});

afterAll(async () => {
  await local?.close();
});

function serviceJob(name: string, count: number): string {
  return `
name: ${name}
type: service
tasks:
  - name: http
    image: ${TEST_IMAGE}
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    count: ${count}
    env: { GREETING: hello }
    resources: { cpu: 0.25, memory: 48, disk: 10 }
    ports: [{ name: http, container: 8080 }]
`;
}

function batchJob(name: string, script: string): string {
  return JSON.stringify({
    name,
    type: "batch",
    tasks: [{ name: "main", image: TEST_IMAGE, command: ["sh", "-c", script], restart: { attempts: 0 }, resources: { cpu: 0.1, memory: 16 } }],
  });
}

const jobWhen = (name: string, what: string, done: (job: JobDetail) => boolean, timeoutMs?: number) => waitForJob(local.client, name, what, done, timeoutMs);

describe("a 3-count service on 3 nodes", () => {
  const name = uniqueJobName("web");

  test("runs one container per node with the job's labels, limits and ports", async () => {
    const submitted = await local.client.submitJob(serviceJob(name, 3), "yaml");
    expect(submitted.created).toBe(true);
    expect(submitted.job.version).toBe(1);

    const job = await jobWhen(name, "3 running tasks", (j) => j.tasks.filter((t) => t.state === "running").length === 3);
    const nodes = new Set(job.tasks.map((t) => t.nodeId));
    expect(nodes.size).toBe(3);

    const containers = await containersWithLabel(LABELS.job, name);
    expect(containers.length).toBe(3);
    for (const task of job.tasks) {
      const info = containers.find((c) => c.Labels[LABELS.taskId] === task.id);
      expect(info).toBeDefined();
      expect(info?.Labels[LABELS.nodeId]).toBe(task.nodeId as string);
      expect(info?.Labels[LABELS.group]).toBe("http");
      const inspect = await docker.getContainer(info?.Id as string).inspect();
      expect(inspect.State.Running).toBe(true);
      expect(inspect.HostConfig.Memory).toBe(48 * 1024 * 1024);
      expect(inspect.HostConfig.NanoCpus).toBe(250_000_000);
      expect(inspect.HostConfig.RestartPolicy?.Name).toBe("no");
      expect(inspect.Config.Env).toContain("GREETING=hello");
      const hostPort = task.hostPorts.http as number;
      expect(Number(inspect.NetworkSettings.Ports["8080/tcp"]?.[0]?.HostPort)).toBe(hostPort);
      const body = await waitFor(`httpd on port ${hostPort}`, async () => (await fetch(`http://127.0.0.1:${hostPort}/`)).text());
      expect(body).toBe("hello from cube\n");
    }
  });

  test("nodes report the allocation of the tasks placed on them", async () => {
    const nodes = await local.client.listNodes();
    expect(nodes.map((n) => n.status)).toEqual(["ready", "ready", "ready"]);
    for (const node of nodes) {
      expect(node.taskCount).toBe(1);
      expect(node.allocated).toEqual({ cpu: 0.25, memory: 48, disk: 10 });
      expect(node.capacity.cpu).toBeGreaterThan(0);
      expect(node.capacity.memory).toBeGreaterThan(0);
    }
  });

  test("stop removes all three containers", async () => {
    const stopped = await local.client.stopJob(name);
    expect(stopped.status).toBe("stopped");
    await jobWhen(name, "3 stopped tasks", (j) => j.tasks.every((t) => t.state === "stopped"), 30_000);
    await waitFor("containers removed", async () => ((await containersWithLabel(LABELS.job, name)).length === 0 ? true : undefined), 10_000);
  });
});

describe("batch jobs", () => {
  test("a container that exits 0 completes", async () => {
    const name = uniqueJobName("ok");
    await local.client.submitJob(batchJob(name, "echo done; exit 0"), "json");
    const job = await jobWhen(name, "a completed task", (j) => j.tasks[0]?.state === "completed");
    expect(job.tasks[0]?.exitCode).toBe(0);
    expect(job.tasks.length).toBe(1);
  });

  test("a container that exits 1 fails after its restart attempts, with the exit code", async () => {
    const name = uniqueJobName("bad");
    await local.client.submitJob(batchJob(name, "exit 1"), "json");
    const job = await jobWhen(name, "a failed task", (j) => j.tasks[0]?.state === "failed");
    expect(job.tasks[0]?.exitCode).toBe(1);
    expect(job.tasks[0]?.message).toContain("exit code 1");

    // A failed batch task is not replaced. A service failing after it is replaced once the reschedule
    // delay has passed for both; each reconciler pass covers every job, so by then a batch replacement
    // would exist too.
    const witness = uniqueJobName("witness");
    try {
      await local.client.submitJob(
        JSON.stringify({ name: witness, type: "service", tasks: [{ name: "main", image: TEST_IMAGE, command: ["sh", "-c", "exit 1"], restart: { attempts: 0 }, resources: { cpu: 0.1, memory: 16 } }] }),
        "json",
      );
      await jobWhen(witness, "a replacement for the failed service task", (j) => j.tasks.length > 1, 30_000);
      expect((await local.client.getJob(name)).tasks.length).toBe(1);
    } finally {
      await local.client.stopJob(witness, true);
    }
  });
});

test("a missing image fails the task with the engine's message", async () => {
  const name = uniqueJobName("missing");
  const image = "cube-test/does-not-exist:1";
  await local.client.submitJob(JSON.stringify({ name, tasks: [{ name: "main", image, restart: { attempts: 0 } }] }), "json");
  const job = await jobWhen(name, "a failed task", (j) => j.tasks[0]?.state === "failed");
  const task = await local.client.getTask(job.tasks[0]?.id as string);
  expect(task.message).toContain(image);
  expect(task.message).toContain("could not be pulled");
  expect(task.events.map((e) => e.state)).toEqual(["pending", "scheduled", "failed"]);
  expect((await containersWithLabel(LABELS.job, name)).length).toBe(0);
  await local.client.stopJob(name, true);
});

test("a malformed job file gets a 400 naming the field and changes nothing stored", async () => {
  const name = uniqueJobName("keep");
  await local.client.submitJob(batchJob(name, "exit 0"), "json");
  const before = await local.client.getJob(name);
  const broken = `name: ${name}\ntasks:\n  - name: main\n    image: ${TEST_IMAGE}\n    resources: { memory: lots }\n`;
  const err = await local.client.submitJob(broken, "yaml").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApiClientError);
  expect((err as ApiClientError).status).toBe(400);
  expect((err as ApiClientError).message).toContain("tasks[0].resources.memory");
  const after = await local.client.getJob(name);
  expect(after.version).toBe(before.version);
  expect(after.spec).toEqual(before.spec);
});
