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

const SLEEPER = ["sh", "-c", "echo started; trap 'exit 0' TERM; while true; do sleep 1; done"];

const jobWhen = (name: string, what: string, done: (job: JobDetail) => boolean, timeoutMs?: number) => waitForJob(local.client, name, what, done, timeoutMs);

const running = (job: JobDetail) => job.tasks.filter((t) => t.state === "running" && t.desired === "running");

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

function sleeperJob(name: string, count: number, image = TEST_IMAGE): string {
  return JSON.stringify({ name, tasks: [{ name: "main", image, command: SLEEPER, count, resources: { memory: 16 } }] });
}

describe("logs and exec", () => {
  test("logs of a running task and of a finished batch task; exec returns output and exit code", async () => {
    const svc = uniqueJobName("logs");
    await local.client.submitJob(sleeperJob(svc, 1), "json");
    const job = await jobWhen(svc, "running", (j) => running(j).length === 1);
    const id = (job.tasks[0]?.id as string).slice(0, 8);
    expect(await waitFor("the first log line", async () => ((await text(await local.client.logs(id, {}))) === "started\n" ? true : undefined))).toBe(true);

    const result = await local.client.exec(id, ["sh", "-c", "echo from-exec; echo oops >&2; exit 4"]);
    expect(result.exitCode).toBe(4);
    // stdout and stderr are separate pipes: their lines arrive in either order.
    expect(result.output.split("\n").sort()).toEqual(["", "from-exec", "oops"]);

    const batch = uniqueJobName("said");
    await local.client.submitJob(JSON.stringify({ name: batch, type: "batch", tasks: [{ name: "main", image: TEST_IMAGE, command: ["sh", "-c", "echo out; echo err >&2"], resources: { memory: 16 } }] }), "json");
    const done = await jobWhen(batch, "completed", (j) => j.tasks[0]?.state === "completed");
    const batchId = done.tasks[0]?.id as string;
    expect((await text(await local.client.logs(batchId, {}))).split("\n").sort()).toEqual(["", "err", "out"]);
    expect(await text(await local.client.logs(batchId, { stderr: true }))).toBe("err\n");
    await local.client.stopJob(svc, true);
  });

  test("following logs streams lines as the container prints them", async () => {
    const name = uniqueJobName("follow");
    await local.client.submitJob(JSON.stringify({ name, tasks: [{ name: "main", image: TEST_IMAGE, command: ["sh", "-c", "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.2; done"], resources: { memory: 16 } }] }), "json");
    const job = await jobWhen(name, "running", (j) => running(j).length === 1);
    const abort = new AbortController();
    const reader = (await local.client.logs(job.tasks[0]?.id as string, { follow: true }, abort.signal)).getReader();
    let seen = "";
    const decoder = new TextDecoder();
    while (!seen.includes("line-3")) {
      const { done, value } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
    }
    abort.abort();
    expect(seen).toContain("line-0\nline-1\nline-2\nline-3");
    await local.client.stopJob(name, true);
  });
});

describe("task restart and stop", () => {
  test("restart replaces the container in place; stop makes the service place a new task", async () => {
    const name = uniqueJobName("taskops");
    await local.client.submitJob(sleeperJob(name, 1), "json");
    const job = await jobWhen(name, "running", (j) => running(j).length === 1);
    const task = job.tasks[0];
    await local.client.restartTask(task?.id as string);
    const restarted = await jobWhen(name, "restarted", (j) => j.tasks[0]?.restarts === 1 && j.tasks[0]?.state === "running" && j.tasks[0]?.containerId !== task?.containerId);
    expect(restarted.tasks[0]?.id).toBe(task?.id as string);

    await local.client.stopTask(task?.id as string);
    const replaced = await jobWhen(name, "a replacement, the old task stopped", (j) => running(j).length === 1 && running(j)[0]?.id !== task?.id && j.tasks.find((t) => t.id === task?.id)?.state === "stopped");
    expect(replaced.tasks.find((t) => t.id === task?.id)?.message).toBe("stopped by user");
    await waitFor("one container", async () => ((await containersWithLabel(LABELS.job, name)).length === 1 ? true : undefined));
    await local.client.stopJob(name, true);
  });
});

describe("versions", () => {
  test("scaling up and down touches only the difference", async () => {
    const name = uniqueJobName("scale");
    await local.client.submitJob(sleeperJob(name, 2), "json");
    const before = new Set(running(await jobWhen(name, "2 running", (j) => running(j).length === 2)).map((t) => t.containerId));
    await local.client.scaleJob(name, "main", 4);
    const up = await jobWhen(name, "4 running", (j) => running(j).length === 4);
    expect(up.version).toBe(2);
    expect(running(up).filter((t) => before.has(t.containerId)).length).toBe(2);
    await local.client.scaleJob(name, "main", 1);
    const down = await jobWhen(name, "1 running", (j) => running(j).length === 1 && j.tasks.every((t) => t.state !== "running" || t.desired === "running"));
    expect(before.has(running(down)[0]?.containerId as string)).toBe(true);
    await waitFor("1 container", async () => ((await containersWithLabel(LABELS.job, name)).length === 1 ? true : undefined));
    await local.client.stopJob(name, true);
  });

  test("history lists every version and revert runs an earlier spec as a new version", async () => {
    const name = uniqueJobName("revert");
    await local.client.submitJob(sleeperJob(name, 1), "json");
    await local.client.submitJob(JSON.stringify({ name, tasks: [{ name: "main", image: TEST_IMAGE, command: ["sh", "-c", "echo v2; trap 'exit 0' TERM; while true; do sleep 1; done"], resources: { memory: 16 } }] }), "json");
    const versions = await local.client.jobVersions(name);
    expect(versions.map((v) => v.version)).toEqual([2, 1]);
    const reverted = await local.client.revertJob(name, 1);
    expect(reverted.job.version).toBe(3);
    const job = await jobWhen(name, "version 3 running", (j) => running(j).length === 1 && running(j)[0]?.jobVersion === 3);
    expect(job.spec.tasks[0]?.command).toEqual(SLEEPER);
    await local.client.stopJob(name, true);
  });
});

describe("events", () => {
  test("a subscriber receives the restart event of a crashing task", async () => {
    const name = uniqueJobName("events");
    const abort = new AbortController();
    const stream = await local.client.events({ job: name }, abort.signal);
    await local.client.submitJob(JSON.stringify({ name, tasks: [{ name: "main", image: TEST_IMAGE, command: ["sh", "-c", "sleep 0.2; exit 3"], restart: { attempts: 1, delay: "100ms" }, resources: { memory: 16 } }] }), "json");
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    const deadline = Date.now() + 20_000;
    while (!seen.includes("restarted after exit code 3") && Date.now() < deadline) {
      const { done, value } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
    }
    abort.abort();
    expect(seen).toContain(`task ${name}.main.0 running: restarted after exit code 3 (restart 1, attempt 1/1)`);
    expect(seen).toContain("exit code 3; restarting in 100ms (attempt 1/1)");
    await local.client.stopJob(name, true);
  });
});

describe("rolling updates", () => {
  // httpd under a shell that exits on SIGTERM, so replaced tasks stop at once.
  const web = (greeting: string, extra: Record<string, unknown> = {}) => ({
    name: "http",
    image: TEST_IMAGE,
    command: ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"],
    count: 3,
    env: { GREETING: greeting },
    ports: [{ name: "http", container: 8080 }],
    health: { http: "/", port: "http", interval: "300ms", timeout: "1s", failures: 2 },
    resources: { memory: 16 },
    ...extra,
  });
  const update = { max_parallel: 1, min_healthy_time: "1s", healthy_deadline: "20s", auto_revert: true };
  const healthy = (j: JobDetail) => j.tasks.filter((t) => t.desired === "running" && t.state === "running" && t.health === "healthy");

  test("replaces a 3-count service one at a time, keeping at least 2 healthy, and ends on the new version", async () => {
    const name = uniqueJobName("roll");
    await local.client.submitJob(JSON.stringify({ name, update, tasks: [web("one")] }), "json");
    await jobWhen(name, "3 healthy", (j) => healthy(j).length === 3);
    await local.client.submitJob(JSON.stringify({ name, update, tasks: [web("two")] }), "json");
    let lowest = 3;
    let samples = 0;
    const final = await waitFor("3 healthy tasks of version 2", async () => {
      const job = await local.client.getJob(name);
      samples++;
      lowest = Math.min(lowest, healthy(job).length);
      const done = healthy(job).filter((t) => t.jobVersion === 2).length === 3 && job.tasks.every((t) => t.jobVersion === 2 || t.state === "stopped");
      return done ? job : undefined;
    }, 60_000, 100);
    console.log(`[rolling update] ${samples} samples, fewest healthy tasks seen: ${lowest}`);
    expect(lowest).toBeGreaterThanOrEqual(2);
    expect(samples).toBeGreaterThan(10);
    const containers = await waitFor("3 containers", async () => {
      const list = await containersWithLabel(LABELS.job, name);
      return list.length === 3 ? list : undefined;
    });
    expect(new Set(containers.map((c) => c.Labels[LABELS.taskId]))).toEqual(new Set(healthy(final).map((t) => t.id)));
    await local.client.stopJob(name, true);
  });

  test("a version that never becomes healthy is rolled back by itself", async () => {
    const name = uniqueJobName("revert");
    await local.client.submitJob(JSON.stringify({ name, update, tasks: [web("good")] }), "json");
    await jobWhen(name, "3 healthy", (j) => healthy(j).length === 3);
    const broken = web("bad", { command: ["sh", "-c", "sleep 600"], update: { healthy_deadline: "3s" } });
    await local.client.submitJob(JSON.stringify({ name, update, tasks: [broken] }), "json");
    const reverted = await jobWhen(name, "a revert to version 1's spec", (j) => j.version === 3, 30_000);
    expect(reverted.spec.tasks[0]?.env).toEqual({ GREETING: "good" });
    const settled = await jobWhen(name, "3 healthy on version 3, the broken task stopped", (j) => healthy(j).filter((t) => t.jobVersion === 3).length === 3 && j.tasks.every((t) => t.jobVersion !== 2 || t.state === "stopped"), 40_000);
    expect(settled.rolloutFailure).toBeNull();
    // The old healthy tasks stayed: only the one broken replacement was ever started.
    expect(settled.tasks.filter((t) => t.jobVersion === 2).length).toBe(1);
    await local.client.stopJob(name, true);
  });
});
