/**
 * Placement through the API: an in-process manager (real HTTP, real SQLite in a temp dir) with 1,000
 * simulated nodes registered over HTTP (no Docker, no heartbeats: a long TTL keeps them ready), one
 * job with count 10,000 submitted, and the time until `GET /v1/jobs/:name` shows every task scheduled.
 *   bun bench/scheduler-api.ts [--json] [--nodes=N] [--tasks=N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../src/client/api-client.ts";
import { createLogger } from "../src/lib/logger.ts";
import { startManagerServer } from "../src/server/manager-server.ts";
import { report, round } from "./stats.ts";

const flag = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const nodes = flag("nodes", 1_000);
const tasks = flag("tasks", 10_000);

const dataDir = mkdtempSync(join(tmpdir(), "cube-bench-api-"));
const server = await startManagerServer({ dataDir, port: 0, bind: "127.0.0.1", log: createLogger("bench", "error"), heartbeatTtlMs: 3_600_000, maxTasksPerJob: Math.max(tasks, 10_000) });
try {
  const join = new ApiClient(server.url, { token: server.tokens.join.secret, timeoutMs: 120_000 });
  const registerStarted = performance.now();
  for (let i = 0; i < nodes; i++) {
    await join.register({
      name: `sim-${i}`,
      address: `http://127.0.0.1:${10_000 + i}`,
      datacenter: i % 2 === 0 ? "dc1" : "dc2",
      labels: { rack: `r${i % 20}` },
      capacity: { cpu: 8, memory: 16_384, disk: 102_400 },
      version: "bench",
    });
  }
  const registerMs = performance.now() - registerStarted;

  const admin = new ApiClient(server.url, { token: server.tokens.management?.secret, timeoutMs: 120_000 });
  const job = { name: "bench", tasks: [{ name: "main", image: "bench", count: tasks, resources: { cpu: 0.01, memory: 16 } }] };
  const started = performance.now();
  await admin.submitJob(JSON.stringify(job), "json");
  const submitMs = performance.now() - started;
  let scheduled = 0;
  let polls = 0;
  while (scheduled < tasks) {
    const detail = await admin.getJob("bench");
    polls++;
    scheduled = detail.tasks.filter((t) => t.state === "scheduled").length;
    const unplaced = detail.tasks.find((t) => t.state === "pending" && t.message.startsWith("no node"));
    if (unplaced) throw new Error(`task ${unplaced.name} cannot be placed: ${unplaced.message}`);
    if (scheduled < tasks) await Bun.sleep(20);
  }
  const placeMs = performance.now() - started;
  report(
    { scenario: "api-place", nodes, tasks, placeMs: Math.round(placeMs) },
    `api-place: ${nodes} nodes registered over HTTP in ${round(registerMs / 1000, 1)} s; a job of ${tasks} tasks: POST /v1/jobs answered in ${Math.round(submitMs)} ms, ` +
      `all ${tasks} tasks scheduled after ${Math.round(placeMs)} ms (${Math.round((tasks / placeMs) * 1000).toLocaleString("en")} tasks/s end to end, ${polls} polls of GET /v1/jobs/bench)`,
  );
} finally {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
