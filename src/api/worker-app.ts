import { Hono } from "hono";
import { Registry } from "prom-client";
import { type Driver, DriverError, type ImageEngine, type VolumeEngine } from "../driver/driver.ts";
import { BadRequestError, ConflictError, NotFoundError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "../lib/metrics.ts";
import type { WorkerAgent } from "../worker/agent.ts";
import { errorHandler, notFoundHandler } from "./errors.ts";
import { requireManagerKey } from "./manager-key.ts";
import { boolParam, intParam, readJson } from "./request.ts";
import { parseExec } from "./wire-schemas.ts";

export interface WorkerAppOptions {
  driver: Driver;
  /** The engine's images: `cube image push` asks what it has and loads into it. */
  images: ImageEngine;
  /** The named volumes of the node's tasks: `cube volume list` and `rm` ask here. */
  volumes: VolumeEngine;
  log: Logger;
  version: string;
  /** Set once the agent exists; until then the worker has no tasks to speak of. */
  agent: () => WorkerAgent | undefined;
}

/** The worker's own small API: health, and container logs that the manager proxies to users. */
export function createWorkerApp({ driver, images, volumes, log, version, agent }: WorkerAppOptions): Hono {
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
  app.use("/v1/images/*", requireManagerKey(() => agent()?.managerKey ?? null));
  app.use("/v1/volumes", requireManagerKey(() => agent()?.managerKey ?? null));
  app.use("/v1/volumes/*", requireManagerKey(() => agent()?.managerKey ?? null));

  app.get("/v1/volumes", async (c) => {
    const nodeId = agent()?.nodeId;
    return c.json({ volumes: nodeId ? await volumes.volumes(nodeId) : [] });
  });

  app.delete("/v1/volumes/:name", async (c) => {
    const name = c.req.param("name");
    try {
      await volumes.removeVolume(name);
    } catch (err) {
      if (err instanceof DriverError && err.code === "volume_in_use") throw new ConflictError(err.message);
      throw err;
    }
    log.info("volume removed", { volume: name });
    return c.json({ removed: name });
  });

  app.get("/v1/images/inspect", async (c) => {
    const image = c.req.query("image");
    if (!image) throw new BadRequestError("query parameter image is required");
    return c.json({ image, id: (await images.image(image))?.id ?? null });
  });

  // A `docker save` archive, streamed into the engine as it arrives.
  app.post("/v1/images/load", async (c) => {
    const body = c.req.raw.body;
    if (!body) throw new BadRequestError("the request body is the image archive (docker save)");
    let bytes = 0;
    const counted = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          bytes += chunk.byteLength;
          out.enqueue(chunk);
        },
      }),
    );
    const loaded = await images.loadImage(counted);
    agent()?.images?.changed();
    agent()?.metrics.imageLoaded(bytes);
    log.info("image loaded", { loaded, bytes });
    return c.json({ loaded, bytes });
  });

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

  // The process's metrics, and the node's own once the agent exists.
  const noAgentYet = new Registry();
  app.get("/metrics", async (c) => c.text(await renderMetrics(agent()?.metrics.registry ?? noAgentYet), 200, { "content-type": METRICS_CONTENT_TYPE }));

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
