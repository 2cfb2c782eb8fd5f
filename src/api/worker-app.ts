import { Hono } from "hono";
import type { Driver } from "../driver/driver.ts";
import { NotFoundError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { Metrics } from "../lib/metrics.ts";
import type { WorkerAgent } from "../worker/agent.ts";
import { errorHandler, notFoundHandler } from "./errors.ts";
import { requireManagerKey } from "./manager-key.ts";
import { boolParam, intParam, readJson } from "./request.ts";
import { parseExec } from "./wire-schemas.ts";

export interface WorkerAppOptions {
  driver: Driver;
  log: Logger;
  version: string;
  /** Set once the agent exists; until then the worker has no tasks to speak of. */
  agent: () => WorkerAgent | undefined;
}

/** The worker's own small API: health, and container logs that the manager proxies to users. */
export function createWorkerApp({ driver, log, version, agent }: WorkerAppOptions): Hono {
  const containerOf = (taskId: string): string => {
    const container = agent()?.containerOf(taskId);
    if (!container) throw new NotFoundError(`task ${taskId} has no container on this node (it may have been removed)`);
    return container;
  };

  const app = new Hono();
  app.onError(errorHandler(log, "worker"));
  app.notFound(notFoundHandler);

  app.get("/v1/health", (c) => c.json({ status: "ok", role: "worker", node: agent()?.nodeId ?? null, version }));
  app.use("/v1/tasks/*", requireManagerKey(() => agent()?.managerKey ?? null));

  app.get("/v1/tasks/:id/logs", async (c) => {
    const containerId = containerOf(c.req.param("id"));
    const stderrOnly = boolParam(c, "stderr");
    const stream = await driver.logs(containerId, {
      follow: boolParam(c, "follow"),
      tail: intParam(c, "tail"),
      stdout: !stderrOnly,
      stderr: true,
      signal: c.req.raw.signal,
    });
    return new Response(stream, { headers: { "content-type": "text/plain; charset=utf-8" } });
  });

  app.get("/metrics", async (c) => {
    const metrics = new Metrics();
    const tasks = agent()?.tasks() ?? [];
    metrics.gauge("cube_worker_tasks", "Tasks on this node by whether they still run.", [
      [{ state: "active" }, tasks.filter((t) => !t.finished).length],
      [{ state: "finished" }, tasks.filter((t) => t.finished).length],
    ]);
    const readings = await Promise.all(
      tasks.filter((t) => t.containerId && !t.finished).map(async (t) => ({ t, stats: await driver.stats(t.containerId as string).catch(() => null) })),
    );
    const measured = readings.filter((r) => r.stats !== null);
    metrics.gauge("cube_task_cpu_seconds_total", "Cpu time used by each task's container.", measured.map(({ t, stats }) => [{ task: t.taskId, name: t.name }, stats?.cpuSeconds ?? 0]));
    metrics.gauge("cube_task_memory_bytes", "Memory used by each task's container.", measured.map(({ t, stats }) => [{ task: t.taskId, name: t.name }, stats?.memoryBytes ?? 0]));
    return c.text(metrics.render(), 200, { "content-type": "text/plain; version=0.0.4" });
  });

  app.post("/v1/tasks/:id/restart", async (c) => {
    const taskId = c.req.param("id");
    const current = agent();
    if (!current) throw new NotFoundError(`task ${taskId} is not running on this node`);
    await current.restartTask(taskId);
    return c.json({ restarted: taskId });
  });

  app.post("/v1/tasks/:id/exec", async (c) => {
    const { command, timeoutMs } = parseExec(await readJson(c));
    return c.json(await driver.exec(containerOf(c.req.param("id")), command, timeoutMs));
  });

  return app;
}
