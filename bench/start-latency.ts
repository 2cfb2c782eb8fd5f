/**
 * Start latency: from `POST /v1/jobs` to the task `running` (as the manager reports it), against
 * `docker run -d` of the same local image with the same limits on the same engine, in the same run.
 *   bun bench/start-latency.ts [--json] [--runs=N]
 */
import { ApiClient } from "../src/client/api-client.ts";
import { LABELS } from "../src/driver/driver.ts";
import { createLogger } from "../src/lib/logger.ts";
import { startDevCluster } from "../src/server/dev-cluster.ts";
import { removeContainersWithLabel, requireDocker, TEST_IMAGE } from "../test/support/docker.ts";
import { median, report, round } from "./stats.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const runs = Number(process.argv.find((a) => a.startsWith("--runs="))?.slice("--runs=".length) ?? 15);
const BENCH_LABEL = "cube.bench";
// Exits on SIGTERM (a plain sleep as PID 1 ignores it), so a stopped container does not keep the engine busy during the next run.
const COMMAND = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
const benchId = crypto.randomUUID().slice(0, 8);

await requireDocker();
const dataDir = mkdtempSync(join(tmpdir(), "cube-bench-"));
const cluster = await startDevCluster({ dataDir, port: 0, bind: "127.0.0.1", workers: 1, datacenter: "dc1", algorithm: "binpack", heartbeatTtlMs: 30_000, log: createLogger("bench", "error") });
const client = new ApiClient(cluster.url, { token: cluster.token });
const nodeId = cluster.workers[0]?.agent.nodeId as string;

async function cubeStart(i: number): Promise<number> {
  const name = `bench-${benchId}-${i}`;
  const body = JSON.stringify({ name, tasks: [{ name: "main", image: TEST_IMAGE, command: COMMAND, resources: { cpu: 0.1, memory: 16 } }] });
  // Listen on the event stream rather than poll, so measuring does not load the 2 cores it measures.
  const events = await fetch(`${cluster.url}/v1/events?job=${name}`, { headers: { authorization: `Bearer ${cluster.token}` } });
  const reader = (events.body as ReadableStream<Uint8Array>).getReader();
  const started = performance.now();
  await client.submitJob(body, "json");
  await untilTaskState(reader, "running");
  const elapsed = performance.now() - started;
  await reader.cancel();
  await client.stopJob(name);
  while ((await client.getJob(name)).tasks.some((t) => t.state !== "stopped")) await Bun.sleep(20);
  await client.stopJob(name, true);
  return elapsed;
}

async function untilTaskState(reader: ReadableStreamDefaultReader<Uint8Array>, state: string): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error("event stream ended");
    buffered += decoder.decode(value);
    for (const line of buffered.split("\n")) {
      if (!line.startsWith("data:")) continue;
      const event = JSON.parse(line.slice(5)) as { type: string; state?: string; message: string };
      if (event.type === "task" && event.state === state) return;
      if (event.type === "task" && event.state === "failed") throw new Error(`bench task failed: ${event.message}`);
    }
    buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
  }
}

async function dockerRun(): Promise<number> {
  const started = performance.now();
  const proc = Bun.spawn(["docker", "run", "-d", "--memory", "16m", "--cpus", "0.1", "--label", `${BENCH_LABEL}=${benchId}`, TEST_IMAGE, ...COMMAND], { stdout: "ignore", stderr: "pipe" });
  if ((await proc.exited) !== 0) throw new Error(`docker run failed: ${await new Response(proc.stderr).text()}`);
  const elapsed = performance.now() - started;
  await removeContainersWithLabel(BENCH_LABEL, benchId);
  return elapsed;
}

const cube: number[] = [];
const docker: number[] = [];
try {
  // One warm-up of each, so neither side pays for first-use caches in the engine.
  await cubeStart(-1);
  await dockerRun();
  for (let i = 0; i < runs; i++) {
    cube.push(await cubeStart(i));
    docker.push(await dockerRun());
  }
} finally {
  await cluster.stop();
  await removeContainersWithLabel(LABELS.nodeId, nodeId);
  await removeContainersWithLabel(BENCH_LABEL, benchId);
  rmSync(dataDir, { recursive: true, force: true });
}

const cubeMedianMs = round(median(cube));
const dockerMedianMs = round(median(docker));
const ratio = round(cubeMedianMs / dockerMedianMs, 2);
report(
  { scenario: "start-latency", runs, cubeMedianMs, dockerMedianMs, ratio },
  `start latency over ${runs} runs: cube ${cubeMedianMs} ms (POST /v1/jobs → running), docker run -d ${dockerMedianMs} ms, ratio ${ratio} (target ≤ 1.3)`,
);
