import { UpstreamError } from "../lib/errors.ts";
import type { Node } from "../model/node.ts";

/**
 * Forwards a request about one task to the worker that runs it (logs, exec, restart) and passes
 * the worker's answer back as it is, streaming bodies included.
 */
export async function forwardToWorker(node: Node, path: string, init: RequestInit & { what: string }): Promise<Response> {
  let upstream: Response;
  try {
    upstream = await fetch(`${node.address}${path}`, init);
  } catch (err) {
    throw new UpstreamError(`cannot reach worker ${node.name} at ${node.address} for ${init.what}: ${(err as Error).message}`);
  }
  return new Response(upstream.body, { status: upstream.status, headers: { "content-type": upstream.headers.get("content-type") ?? "text/plain" } });
}
