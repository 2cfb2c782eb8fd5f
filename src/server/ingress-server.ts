import type { Logger } from "../lib/logger.ts";
import { IngressProxy } from "../worker/services/ingress-proxy.ts";
import type { WorkerAgent } from "../worker/agent.ts";

export interface IngressServer {
  url: string;
  stop(): Promise<void>;
}

/** How long requests under way may take to finish when the ingress stops. */
const STOP_GRACE_MS = 5_000;

/** `::ffff:10.0.0.1` → `10.0.0.1`: a v4 client on a dual-stack socket is forwarded as itself. */
function clientAddress(address: string | undefined): string {
  return (address ?? "").replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, "$1");
}

/**
 * The node's HTTP ingress on `--ingress=ADDR:PORT`, routing by the catalog the worker follows. On
 * stop it takes no new connections and lets the requests under way finish.
 */
export function startIngressServer(listen: { hostname: string; port: number }, agent: WorkerAgent, log: Logger): IngressServer {
  const proxy = new IngressProxy(log);
  const unsubscribe = agent.onRoutes((routes) => proxy.update(routes.ingress));
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ hostname: listen.hostname, port: listen.port, fetch: (request, srv) => proxy.handle(request, clientAddress(srv.requestIP(request)?.address)) });
  } catch (err) {
    unsubscribe();
    const reason = (err as { code?: string }).code === "EADDRINUSE" ? "the port is already in use" : (err as Error).message;
    throw new Error(`cannot listen for ingress on ${listen.hostname}:${listen.port}: ${reason} (choose another with --ingress)`);
  }
  const host = listen.hostname === "0.0.0.0" || listen.hostname === "::" ? "127.0.0.1" : listen.hostname;
  log.info("ingress listening", { url: `http://${host}:${server.port}` });
  return {
    url: `http://${host}:${server.port}`,
    async stop() {
      unsubscribe();
      // Requests under way finish; a client that keeps its connection open is cut after a while.
      await Promise.race([server.stop(false), Bun.sleep(STOP_GRACE_MS)]);
      await server.stop(true);
    },
  };
}
