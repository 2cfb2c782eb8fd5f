import { Hono } from "hono";
import type { Driver } from "../driver/driver.ts";
import { NotFoundError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { errorHandler, notFoundHandler } from "./errors.ts";
import { boolParam, intParam } from "./request.ts";

export interface WorkerAppOptions {
  driver: Driver;
  log: Logger;
  version: string;
  nodeId: () => string;
}

/** The worker's own small API: health, and container logs that the manager proxies to users. */
export function createWorkerApp({ driver, log, version, nodeId }: WorkerAppOptions): Hono {
  const app = new Hono();
  app.onError(errorHandler(log));
  app.notFound(notFoundHandler);

  app.get("/v1/health", (c) => c.json({ status: "ok", role: "worker", node: nodeId(), version }));

  app.get("/v1/tasks/:id/logs", async (c) => {
    const taskId = c.req.param("id");
    const container = (await driver.recover(nodeId())).find((t) => t.taskId === taskId);
    if (!container) throw new NotFoundError(`task ${taskId} has no container on this node (it may have been removed)`);
    const stderrOnly = boolParam(c, "stderr");
    const stream = await driver.logs(container.containerId, {
      follow: boolParam(c, "follow"),
      tail: intParam(c, "tail"),
      stdout: !stderrOnly,
      stderr: true,
      signal: c.req.raw.signal,
    });
    return new Response(stream, { headers: { "content-type": "text/plain; charset=utf-8" } });
  });

  return app;
}
