import { UpstreamError } from "../lib/errors.ts";
import type { Node } from "../model/node.ts";

export interface WorkerProxyOptions {
  /** The key the node's worker accepts (Tokens.workerKey), null when the node has no credential. */
  keyOf: (nodeId: string) => string | null;
  /** PEM of the CA that signed the workers' certificates, for `https://` workers. */
  ca?: string;
}

/**
 * Forwards a request about one task to the worker that runs it (logs, exec, restart) with the key
 * that worker accepts, and passes the worker's answer back as it is, streaming bodies included.
 */
export type WorkerProxy = ReturnType<typeof createWorkerProxy>;

export function createWorkerProxy({ keyOf, ca }: WorkerProxyOptions) {
  return async function forwardToWorker(node: Node, path: string, init: RequestInit & { what: string }): Promise<Response> {
    if (node.status === "down") {
      throw new UpstreamError(`worker ${node.name} is down (no heartbeat since ${new Date(node.lastHeartbeat).toISOString()}), so ${init.what} cannot be reached until it returns`);
    }
    const key = keyOf(node.id);
    if (key === null) throw new UpstreamError(`worker ${node.name} has no credential (revoked?), so the manager cannot call it for ${init.what}`);
    const headers = { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${key}` };
    let upstream: Response;
    try {
      upstream = await fetch(`${node.address}${path}`, { ...init, headers, ...(ca ? { tls: { ca } } : {}) });
    } catch (err) {
      throw new UpstreamError(`cannot reach worker ${node.name} at ${node.address} for ${init.what}: ${(err as Error).message}`);
    }
    return new Response(upstream.body, { status: upstream.status, headers: { "content-type": upstream.headers.get("content-type") ?? "text/plain" } });
  };
}
