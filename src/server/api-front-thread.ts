/**
 * The API's front thread (see api-front.ts): owns the listening socket, answers the lists from its
 * copy of the cluster state, and passes every other request to the manager's thread.
 */
import { setPriority } from "node:os";
import { type Context, Hono } from "hono";
import { credentialOf, rolesMeeting } from "../api/auth.ts";
import { errorHandler } from "../api/errors.ts";
import { LIST_ROUTES, type ListReads, listRoutes } from "../api/list-routes.ts";
import { requirementOf } from "../api/route-roles.ts";
import type { Logger, LogLevel } from "../lib/logger.ts";
import { ClusterState } from "../manager/cluster-state.ts";
import { ListQueries } from "../manager/list-queries.ts";
import type { RequestLabels } from "../manager/manager-metrics.ts";
import { StateCopy, type StateDelta } from "../manager/state-feed.ts";
import { type KnownToken, verifySecret } from "../manager/tokens.ts";
import { Turns } from "../manager/turns.ts";
import type { FromFront, ToFront } from "./api-front.ts";
import { type ListenOptions, listen } from "./http-server.ts";
import { type BridgeMessage, BridgeClient } from "./request-bridge.ts";

declare const self: Worker;

/** Requests served here are told to the manager's thread in batches, this often. */
const REPORT_EVERY_MS = 1000;
/** A token's use is told at most this often (the manager writes it down once a minute). */
const TELL_USE_EVERY_MS = 30_000;

/**
 * The nice value this thread asks for, the highest: ahead of the manager's thread, which may be busy
 * for tens of milliseconds at a time, and of everything else on a busy machine, so a list waits for
 * neither. (On the fleet bench's two cores, -20 rather than -10 took list p99 from 13–40 ms to
 * 17–22 ms.) The thread's work is bounded: it answers lists and passes requests on. Linux keeps a
 * nice value per thread; raising a priority needs root or CAP_SYS_NICE, and without them the
 * thread runs at the process's.
 */
const FRONT_NICE = -20;

const post = (message: FromFront) => self.postMessage(message);

function logger(component: string): Logger {
  const write = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => post({ k: "log", level, message, fields });
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error"), child: (sub) => logger(`${component}/${sub}`) };
}

/** The copy of the cluster state, and the lists read from it (from the first whole state on: only then does this thread listen). */
const copy = new StateCopy();
let lists: ListQueries | null = null;
const current = () => lists as ListQueries;
const reads: ListReads = {
  listJobs: (page) => current().listJobs(page),
  listTasks: (query, page) => current().listTasks(query, page),
  listNodes: (page) => current().listNodes(page),
  getNode: (idOrName) => current().getNode(idOrName),
};
const tokens = new Map<string, KnownToken>();
const bridge = new BridgeClient(post);

const served: [RequestLabels, number][] = [];
const used = new Set<string>();
const toldUse = new Map<string, number>();
const report = setInterval(() => {
  if (served.length === 0 && used.size === 0) return;
  post({ k: "served", requests: served.splice(0), used: [...used] });
  used.clear();
}, REPORT_EVERY_MS);

/** The path of a request's URL (Bun's are absolute), without parsing the rest. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const end = url.indexOf("?", start);
  return url.slice(start, end === -1 ? undefined : end);
}

/** A list asked for with a live token whose role may read it is answered here; anything else goes to the manager's thread, which says why not. */
function servesHere(c: Context): boolean {
  const secret = credentialOf(c);
  const verified = secret ? verifySecret(secret, (id) => tokens.get(id)) : null;
  if (!verified) return false;
  const { requires } = requirementOf("GET", c.req.path);
  if (requires !== "public" && !rolesMeeting(requires).includes(verified.principal.role)) return false;
  const now = Date.now();
  if (now - (toldUse.get(verified.id) ?? 0) >= TELL_USE_EVERY_MS) {
    toldUse.set(verified.id, now);
    used.add(verified.id);
  }
  return true;
}

const app = new Hono();
app.onError(errorHandler(logger("api")));
app.use(async (c, next) => {
  if (!servesHere(c)) return bridge.forward(c.req.raw);
  const started = performance.now();
  await next();
  served.push([{ method: "GET", route: c.req.path, status: String(c.res.status) }, (performance.now() - started) / 1000]);
});
listRoutes(app, reads);

let options: ListenOptions | undefined;
let server: ReturnType<typeof Bun.serve> | undefined;

/**
 * Messages are handled in the order they came, at most TURN_MS of them per turn of the event loop:
 * the manager's thread answers hundreds of long-polls at once after a placement, and a list asked
 * meanwhile is read and answered between two turns rather than after the whole burst. The order
 * keeps a write's changes ahead of its answer, so a list sent after the answer sees them.
 */
const TURN_MS = 2;
const inbox: ToFront[] = [];
let head = 0;
const turns = new Turns();

function handleSome(): void {
  const until = performance.now() + TURN_MS;
  while (head < inbox.length && performance.now() < until) void handle(inbox[head++] as ToFront);
  if (head < inbox.length) return turns.request(handleSome);
  inbox.length = 0;
  head = 0;
}

self.addEventListener("message", (event: MessageEvent<ToFront>) => {
  inbox.push(event.data);
  turns.request(handleSome);
});

async function handle(message: ToFront): Promise<void> {
  switch (message.k) {
    case "start":
      options = message.listen;
      return;
    case "delta": {
      const delta = JSON.parse(message.json) as StateDelta;
      if (copy.apply(delta)) lists = new ListQueries(copy.state as ClusterState);
      // Lists can be answered once a whole state came.
      if (!server && options && lists) startListening(options);
      return;
    }
    case "token":
      if (message.known) tokens.set(message.id, message.known);
      else tokens.delete(message.id);
      return;
    case "stop":
      clearInterval(report);
      turns.stop();
      await server?.stop(true);
      bridge.failAll("the manager is stopping");
      post({ k: "stopped" });
      return;
    default:
      bridge.receive(message as BridgeMessage);
  }
}

function raisePriority(): void {
  // The collector's helper threads are made at the first collection, and would inherit the priority.
  Bun.gc(true);
  try {
    setPriority(0, FRONT_NICE);
  } catch (err) {
    logger("api-front").debug("the API's front thread runs at the manager's priority", { reason: (err as Error).message });
  }
}

function startListening(listenOptions: ListenOptions): void {
  raisePriority();
  try {
    // Only a list may be answered here; anything else goes to the manager's thread without a detour through the router.
    server = listen((request) => (request.method === "GET" && LIST_ROUTES.has(pathOf(request.url)) ? app.fetch(request) : bridge.forward(request)), listenOptions);
    post({ k: "listening", port: server.port as number });
  } catch (err) {
    post({ k: "failed", message: (err as Error).message });
  }
}
