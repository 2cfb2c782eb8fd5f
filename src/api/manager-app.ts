import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import { ConflictError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { METRICS_CONTENT_TYPE } from "../lib/metrics.ts";
import type { ControlPlane, EventFilter } from "../manager/control-plane.ts";
import { matchesEvent } from "../manager/event-bus.ts";
import { jobFileFormat } from "../model/job-file-format.ts";
import { parseJobFile } from "../model/job-schema.ts";
import type { OpenApiDocument } from "../model/openapi.ts";
import { parseTaskName } from "../model/task.ts";
import { createUiApp } from "../ui/ui-app.tsx";
import { assignmentsJson } from "./json-text.ts";
import { JSON_TYPE, listRoutes } from "./list-routes.ts";
import { authenticate } from "./auth.ts";
import { browserLogin } from "./browser-login.ts";
import { errorHandler, notFoundHandler } from "./errors.ts";
import { imageRoutes } from "./image-routes.ts";
import { openApiDocument } from "./openapi.ts";
import { boolParam, durationParam, pageParams, readJson } from "./request.ts";
import { secretRoutes } from "./secret-routes.ts";
import { parseEligibility, parseExec, parseHeartbeat, parseRegister, parseRevert, parseScale, parseTaskReports } from "./wire-schemas.ts";
import { tokenRoutes } from "./token-routes.ts";
import { volumeRoutes } from "./volume-routes.ts";
import { createWorkerProxy } from "./worker-proxy.ts";

export interface ManagerAppOptions {
  /** The one door into the manager. */
  manager: ControlPlane;
  log: Logger;
  version: string;
  maxBodyBytes?: number;
  /** PEM of the CA that signed the workers' certificates, when workers serve HTTPS. */
  workerCa?: string;
}

const SNAPSHOT_MAX_BYTES = 1024 * 1024 * 1024;

/** A task named JOB.GROUP.INDEX is the slot's task of now; an id or id prefix is matched as it is. */
function eventFilter(c: Context, manager: ControlPlane): EventFilter {
  const task = c.req.query("task");
  return { job: c.req.query("job"), node: c.req.query("node"), task: task !== undefined && parseTaskName(task) ? manager.getTask(task).id : task, type: c.req.query("type") };
}

/** A job file sent as the request body, in the format its Content-Type (or else its text) says. */
async function jobFileBody(c: Context) {
  const body = await c.req.text();
  return parseJobFile(body, jobFileFormat(body, { contentType: c.req.header("content-type") }));
}

/** The manager's HTTP API (`/v1`), built from an injected ControlPlane so tests call it without sockets. Lists page (`?limit=&next=`). */
export function createManagerApp({ manager, log, version, maxBodyBytes = 1024 * 1024, workerCa }: ManagerAppOptions): Hono {
  const forwardToWorker = createWorkerProxy({ keyOf: (nodeId) => manager.workerKey(nodeId), ca: workerCa });
  const verify = (secret: string) => manager.verifyToken(secret);
  const app = new Hono();
  app.onError(errorHandler(log));
  app.notFound(notFoundHandler);
  // Authentication first: an anonymous caller gets its 401 before any body is read.
  app.use("/ui", browserLogin(verify));
  app.use("/ui/*", browserLogin(verify));
  app.use("*", authenticate(verify));
  // The workers' long-polls, before the middleware below, which has nothing to do for them: thousands
  // wait at any moment, each holding every layer it passed through, and they wait on purpose (up to 30 s),
  // so their time is not the API's latency.
  app.get("/v1/nodes/:id/assignments", async (c) => {
    const wait = durationParam(c, "wait", 30_000, 5 * 60_000);
    const answer = await manager.assignments(c.req.param("id"), c.req.query("index") ?? "", wait, c.req.raw.signal, c.req.query("delta") === "1");
    return c.body(assignmentsJson(answer), 200, JSON_TYPE);
  });
  app.get("/v1/nodes/:id/services", async (c) => {
    const wait = durationParam(c, "wait", 30_000, 5 * 60_000);
    return c.json(await manager.serviceRoutes(c.req.param("id"), c.req.query("index") ?? "", wait, c.req.raw.signal));
  });
  const limitTo = (maxSize: number) =>
    bodyLimit({ maxSize, onError: (c) => c.json({ error: { code: "too_large", message: `request body is larger than ${maxSize} bytes` } }, 413) });
  const requestLimit = limitTo(maxBodyBytes);
  // A snapshot restored holds the whole cluster.
  const snapshotLimit = limitTo(SNAPSHOT_MAX_BYTES);
  app.use("/v1/*", (c, next) => {
    // An image pushed to a node streams through to its worker: its size is the image's.
    if (c.req.path === "/v1/images/load") return next();
    return c.req.path === "/v1/snapshot" ? snapshotLimit(c, next) : requestLimit(c, next);
  });

  // API latency by route pattern (not by raw path, so task ids do not explode the label set).
  app.use("/v1/*", async (c, next) => {
    const started = performance.now();
    await next();
    const labels = { method: c.req.method, route: c.req.routePath, status: String(c.res.status) };
    manager.observeRequest(labels, (performance.now() - started) / 1000);
  });
  // A write is answered once it is stored: a shared store (etcd) sends it after the handler ran, and may refuse it (503, 409).
  app.use("/v1/*", async (c, next) => {
    await next();
    if (c.req.method !== "GET" && c.res.status < 400) await manager.durable();
  });
  app.get("/metrics", async (c) => c.text(await manager.renderMetrics(), 200, { "content-type": METRICS_CONTENT_TYPE }));

  // Made on first use: a manager that nobody asks for it starts without the cost (about 10 ms).
  let madeDocument: OpenApiDocument | undefined;
  const apiDocument = () => (madeDocument ??= openApiDocument(version));
  app.get("/v1/health", (c) => c.json({ status: "ok", role: "manager", version }));
  app.get("/v1/openapi.json", (c) => c.json(apiDocument()));
  app.get("/", (c) => c.redirect("/ui"));
  app.route("/ui", createUiApp({ manager, log: log.child("ui"), apiDocument }));

  app.post("/v1/jobs", async (c) => {
    const spec = await jobFileBody(c);
    const result = manager.submitJob(spec);
    return c.json(result, result.created ? 201 : 200);
  });
  // A dry run of the same body: where each task would go and why, nothing stored.
  app.post("/v1/plan", async (c) => {
    return c.json(manager.plan(await jobFileBody(c)));
  });
  listRoutes(app, manager);
  app.get("/v1/jobs/:name", (c) => c.json(manager.getJob(c.req.param("name"))));
  app.delete("/v1/jobs/:name", (c) => c.json(manager.stopJob(c.req.param("name"), boolParam(c, "purge"))));

  app.get("/v1/tasks/:id", (c) => c.json(manager.getTask(c.req.param("id"))));
  app.get("/v1/tasks/:id/logs", (c) => {
    const { task, node } = manager.taskLocation(c.req.param("id"));
    const url = new URL(c.req.url);
    // A browser's `?token=` is for the manager; the worker must not see it.
    url.searchParams.delete("token");
    return forwardToWorker(node, `/v1/tasks/${task.id}/logs${url.search}`, { signal: c.req.raw.signal, what: `the logs of task ${task.name}` });
  });
  app.post("/v1/tasks/:id/exec", async (c) => {
    const { task, node } = manager.taskLocation(c.req.param("id"));
    const body = JSON.stringify(parseExec(await readJson(c)));
    return forwardToWorker(node, `/v1/tasks/${task.id}/exec`, { method: "POST", body, headers: { "content-type": "application/json" }, signal: c.req.raw.signal, what: `exec in task ${task.name}` });
  });
  app.post("/v1/tasks/:id/restart", (c) => {
    const { task, node } = manager.taskLocation(c.req.param("id"));
    if (task.state !== "running" || task.desired !== "running") {
      throw new ConflictError(`task ${task.name} is ${task.desired === "stopped" ? "stopping" : task.state}; only a running task can be restarted`);
    }
    return forwardToWorker(node, `/v1/tasks/${task.id}/restart`, { method: "POST", what: `restarting task ${task.name}` });
  });
  app.post("/v1/tasks/:id/stop", (c) => c.json(manager.stopTask(c.req.param("id"))));

  app.get("/v1/jobs/:name/versions", (c) => c.json({ versions: manager.jobVersions(c.req.param("name")) }));
  app.post("/v1/jobs/:name/revert", async (c) => {
    const { version } = parseRevert(await readJson(c));
    return c.json(manager.revertJob(c.req.param("name"), version));
  });

  app.post("/v1/jobs/:name/scale", async (c) => {
    const { group, count } = parseScale(await readJson(c));
    return c.json(manager.scaleJob(c.req.param("name"), group, count));
  });

  app.get("/v1/nodes/:id", (c) => c.json(manager.getNode(c.req.param("id"))));
  app.post("/v1/nodes/:id/drain", (c) => c.json(manager.drainNode(c.req.param("id"))));
  app.post("/v1/nodes/:id/eligibility", async (c) => {
    const { eligible } = parseEligibility(await readJson(c));
    return c.json(manager.setNodeEligibility(c.req.param("id"), eligible));
  });

  app.get("/v1/services", (c) => c.json({ services: manager.listServices() }));
  app.get("/v1/services/:name", (c) => c.json(manager.getService(c.req.param("name"))));

  // The last events the manager kept, oldest first, paged; `/v1/events` streams the ones to come.
  app.get("/v1/events/history", (c) => {
    const { items, next } = manager.eventHistory(eventFilter(c, manager), pageParams(c));
    return c.json({ events: items, next });
  });
  app.get("/v1/events", (c) => {
    const filter = eventFilter(c, manager);
    return streamSSE(c, async (stream) => {
      const unsubscribe = manager.subscribe((event) => {
        if (!matchesEvent(event, filter)) return;
        void stream.writeSSE({ id: String(event.index), event: event.type, data: JSON.stringify(event) });
      });
      // A comment at once sends the headers, so a subscriber knows it is listening before anything happens;
      // one every 15 s keeps idle connections from being cut by proxies.
      await stream.write(": connected\n\n");
      const keepAlive = setInterval(() => void stream.write(": keep-alive\n\n"), 15_000);
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      clearInterval(keepAlive);
      unsubscribe();
    });
  });

  app.route("/v1/tokens", tokenRoutes(manager));
  app.route("/v1/images", imageRoutes(manager, forwardToWorker));
  app.route("/v1/volumes", volumeRoutes(manager, forwardToWorker));
  app.route("/v1/secrets", secretRoutes(manager));
  app.post("/v1/keyring/rotate", async (c) => c.json(await manager.rotateKeyring()));
  app.get("/v1/managers", (c) => c.json({ managers: manager.managers() }));
  // The snapshot is sent a line at a time, so a big cluster is never one string in memory.
  app.get("/v1/snapshot", (c) => {
    // Read at once (synchronously, so no write lands in between: a consistent snapshot), then sent.
    const lines = [...manager.snapshot()][Symbol.iterator]();
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = lines.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(`${next.value}\n`));
      },
    });
    return c.body(body, 200, { "content-type": "application/x-ndjson", "content-disposition": 'attachment; filename="cube.snapshot"' });
  });
  app.post("/v1/snapshot", async (c) => c.json({ restored: await manager.restoreSnapshot(await c.req.text()) }));

  // The join protocol: workers register, heartbeat, long-poll their assignments and report task states.
  app.post("/v1/nodes/register", async (c) => c.json(manager.joinNode(c.get("principal"), parseRegister(await readJson(c)))));
  app.post("/v1/nodes/:id/heartbeat", async (c) => {
    const { stats, events, images } = parseHeartbeat(await readJson(c));
    return c.json(manager.heartbeat(c.req.param("id"), stats, events, images));
  });
  // Many reports per request, applied in order in one transaction; each answered on its own.
  app.post("/v1/nodes/:id/tasks", async (c) => c.json({ results: await manager.reportTasks(c.req.param("id"), parseTaskReports(await readJson(c))) }));
  // The values a task assigned to the node needs to start; nothing on the way keeps them.
  app.get("/v1/nodes/:id/tasks/:taskId/secrets", async (c) => {
    const secrets = await manager.taskSecrets(c.req.param("id"), c.req.param("taskId"));
    return c.json({ secrets }, 200, { "cache-control": "no-store" });
  });

  return app;
}
