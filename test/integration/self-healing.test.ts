import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LABELS } from "../../src/driver/driver.ts";
import type { JobDetail } from "../../src/model/api-types.ts";
import { containersWithLabel, requireDocker, TEST_IMAGE } from "../support/docker.ts";
import { startLocalCluster, uniqueJobName, type LocalCluster } from "../support/local-cluster.ts";
import { jobWhen as waitForJob, waitFor } from "../support/wait-for.ts";

let local: LocalCluster;

beforeAll(async () => {
  await requireDocker();
  local = await startLocalCluster(2);
});

afterAll(async () => {
  await local?.close();
});

const jobWhen = (name: string, what: string, done: (job: JobDetail) => boolean, timeoutMs?: number) => waitForJob(local.client, name, what, done, timeoutMs);

const httpd = ["httpd", "-f", "-p", "8080", "-h", "/www"];

describe("restart policy", () => {
  test("a crashing container is restarted in place, then failed and replaced; every exit is in the history", async () => {
    const name = uniqueJobName("crash");
    await local.client.submitJob(
      JSON.stringify({ name, tasks: [{ name: "main", image: TEST_IMAGE, command: ["sh", "-c", "sleep 0.3; exit 7"], restart: { attempts: 2, interval: "1m", delay: "100ms", mode: "fail" }, resources: { memory: 16 } }] }),
      "json",
    );
    const job = await jobWhen(name, "the first task failed", (j) => j.tasks.some((t) => t.state === "failed"));
    const first = job.tasks.find((t) => t.state === "failed");
    expect(first?.restarts).toBe(2);
    expect(first?.exitCode).toBe(7);
    expect(first?.message).toContain("exit code 7; restart attempts exhausted (2 in 60s)");
    const history = await local.client.getTask(first?.id as string);
    const restarts = history.events.filter((e) => e.message.startsWith("restarted after exit code 7"));
    expect(restarts.map((e) => e.message)).toEqual([
      "restarted after exit code 7 (restart 1, attempt 1/2)",
      "restarted after exit code 7 (restart 2, attempt 2/2)",
    ]);
    // The manager replaces a failed service task with a new one (after its reschedule delay).
    const replaced = await jobWhen(name, "a replacement task", (j) => j.tasks.some((t) => t.id !== first?.id && t.index === 0 && t.state === "running"), 20_000);
    expect(replaced.tasks.filter((t) => t.desired === "running" && t.state === "running").length).toBe(1);
    await local.client.stopJob(name, true);
  });
});

describe("health checks", () => {
  test("a passing HTTP check makes the task healthy", async () => {
    const name = uniqueJobName("healthy");
    await local.client.submitJob(
      JSON.stringify({
        name,
        tasks: [{ name: "web", image: TEST_IMAGE, command: httpd, ports: [{ name: "http", container: 8080 }], health: { http: "/", port: "http", interval: "500ms", timeout: "1s", failures: 2 }, resources: { memory: 16 } }],
      }),
      "json",
    );
    const job = await jobWhen(name, "a healthy task", (j) => j.tasks[0]?.health === "healthy");
    expect(job.tasks[0]?.state).toBe("running");
    expect(job.tasks[0]?.restarts).toBe(0);
    await local.client.stopJob(name, true);
  });

  test("a failing HTTP check restarts the container like a crash", async () => {
    const name = uniqueJobName("unhealthy");
    await local.client.submitJob(
      JSON.stringify({
        name,
        tasks: [
          {
            name: "web",
            image: TEST_IMAGE,
            command: httpd,
            ports: [{ name: "http", container: 8080 }],
            health: { http: "/missing", port: "http", interval: "300ms", timeout: "1s", failures: 2 },
            restart: { attempts: 3, interval: "1m", delay: "100ms" },
            resources: { memory: 16 },
          },
        ],
      }),
      "json",
    );
    const job = await jobWhen(name, "a restart after failed checks", (j) => (j.tasks[0]?.restarts ?? 0) >= 1);
    const task = await local.client.getTask(job.tasks[0]?.id as string);
    const unhealthy = task.events.find((e) => e.message.startsWith("health check failed 2 times"));
    expect(unhealthy?.message).toContain("GET /missing answered HTTP 404");
    expect(task.events.some((e) => e.message.startsWith("restarted after unhealthy"))).toBe(true);
    expect(task.health).not.toBe("healthy");
    await local.client.stopJob(name, true);
  });
});

describe("draining", () => {
  test("drain moves a node's tasks to the other node and removes its containers; eligible undoes it", async () => {
    const name = uniqueJobName("drain");
    await local.client.submitJob(JSON.stringify({ name, tasks: [{ name: "main", image: TEST_IMAGE, command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"], count: 2, resources: { memory: 16 } }] }), "json");
    const running = await jobWhen(name, "2 running tasks", (j) => j.tasks.filter((t) => t.state === "running").length === 2);
    const drained = running.tasks[0]?.nodeName as string;
    const drainedId = running.tasks[0]?.nodeId as string;
    const node = await local.client.drainNode(drained);
    expect(node.eligible).toBe(false);
    await jobWhen(name, "2 running tasks off the drained node", (j) => {
      const live = j.tasks.filter((t) => t.state === "running");
      return live.length === 2 && live.every((t) => t.nodeName !== drained);
    });
    await waitFor("no container left on the drained node", async () => {
      const containers = await containersWithLabel(LABELS.job, name);
      return containers.every((c) => c.Labels[LABELS.nodeId] !== drainedId) && containers.length === 2 ? true : undefined;
    });
    const after = (await local.client.listNodes()).find((n) => n.name === drained);
    expect(after?.status).toBe("ready");
    expect(after?.eligible).toBe(false);
    expect((await local.client.setNodeEligibility(drained, true)).eligible).toBe(true);
    await local.client.stopJob(name, true);
  });
});
