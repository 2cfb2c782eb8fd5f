import type { Hono } from "hono";
import { isCompiled } from "../lib/executable.ts";
import type { Logger, LogLevel } from "../lib/logger.ts";
import type { ClusterState } from "../manager/cluster-state.ts";
import type { RequestLabels } from "../manager/manager-metrics.ts";
import { StateFeed } from "../manager/state-feed.ts";
import type { KnownToken, Tokens } from "../manager/tokens.ts";
import { type HttpServer, type ListenOptions, localUrl } from "./http-server.ts";
import { type BridgeMessage, BridgeServer } from "./request-bridge.ts";

/** What the manager's thread tells the front thread (besides requests' answers). */
export type ToFront =
  | { k: "start"; listen: ListenOptions }
  /** A StateDelta as JSON text: for plain data, JSON costs a quarter of a structured clone, on both sides. */
  | { k: "delta"; json: string }
  | { k: "token"; id: string; known: KnownToken | null }
  | { k: "stop" }
  | BridgeMessage;

/** What the front thread tells the manager's thread (besides requests). */
export type FromFront =
  | { k: "listening"; port: number }
  | { k: "failed"; message: string }
  /** Requests it served, for the API's metrics, and the tokens they used. */
  | { k: "served"; requests: [RequestLabels, number][]; used: string[] }
  | { k: "log"; level: LogLevel; message: string; fields?: Record<string, unknown> }
  | { k: "stopped" }
  | BridgeMessage;

export interface ApiFrontOptions extends ListenOptions {
  /** The manager's API, which answers every request the front thread does not serve itself. */
  app: Hono;
  state: ClusterState;
  tokens: Tokens;
  observeRequest(labels: RequestLabels, seconds: number): void;
  log: Logger;
}

/**
 * The front thread's code: in the compiled executable, an entry point of its own (build.ts), kept
 * under the bundle's root by its path from src/; from the sources, the file beside this one.
 */
const FRONT_THREAD = isCompiled() ? "./server/api-front-thread.ts" : new URL("./api-front-thread.ts", import.meta.url).href;

/** How long a stop waits for the front thread to close its connections before it is ended anyway. */
const STOP_WAIT_MS = 5_000;

const BRIDGE_KINDS: ReadonlySet<string> = new Set(["req", "res", "chunk", "end", "ack", "cancel"]);

/**
 * Serves the manager's API from a second thread, the front thread (api-front-thread.ts), which owns
 * the listening socket. It answers the lists (jobs, tasks, nodes) itself, from a copy of the cluster
 * state that follows the manager's (StateFeed), so a list is answered in a millisecond or two even
 * while the manager's thread is busy placing thousands of tasks; every other request it passes to
 * the manager's thread (request-bridge.ts). A list sees every change whose request was answered
 * before it was sent: the changes and the answers travel on one channel, in order.
 */
export async function startApiFront(options: ApiFrontOptions): Promise<HttpServer> {
  const { app, state, tokens, log } = options;
  const worker = new Worker(FRONT_THREAD);
  const post = (message: ToFront) => worker.postMessage(message);
  const bridge = new BridgeServer(post, (request) => app.fetch(request));
  let listening: { resolve: (port: number) => void; reject: (err: Error) => void } | undefined;
  let stopped: (() => void) | undefined;
  const port = new Promise<number>((resolve, reject) => (listening = { resolve, reject }));

  worker.addEventListener("message", (event: MessageEvent<FromFront>) => {
    const message = event.data;
    if (BRIDGE_KINDS.has(message.k)) return bridge.receive(message as BridgeMessage);
    switch (message.k) {
      case "listening":
        return listening?.resolve(message.port);
      case "failed":
        return listening?.reject(new Error(message.message));
      case "served":
        for (const [labels, seconds] of message.requests) options.observeRequest(labels, seconds);
        for (const id of message.used) tokens.used(id);
        return;
      case "log":
        return log[message.level](message.message, message.fields);
      case "stopped":
        return stopped?.();
    }
  });
  worker.addEventListener("error", (event) => {
    log.error("the API's front thread failed", { error: (event as ErrorEvent).message });
    listening?.reject(new Error(`the API's front thread failed: ${(event as ErrorEvent).message}`));
  });

  post({ k: "start", listen: { port: options.port, hostname: options.hostname, ...(options.tls ? { tls: options.tls } : {}) } });
  const feed = new StateFeed(state, (delta) => post({ k: "delta", json: JSON.stringify(delta) }));
  feed.flush();
  tokens.follow((id, known) => post({ k: "token", id, known }));
  const close = () => {
    tokens.follow(null);
    feed.close();
    bridge.abortAll();
    worker.terminate();
  };
  let boundPort: number;
  try {
    boundPort = await port;
  } catch (err) {
    close();
    throw err;
  }
  return {
    url: localUrl(options, boundPort),
    port: boundPort,
    async stop() {
      await new Promise<void>((resolve) => {
        stopped = resolve;
        post({ k: "stop" });
        setTimeout(resolve, STOP_WAIT_MS).unref();
      });
      close();
    },
  };
}
