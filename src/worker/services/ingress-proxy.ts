import type { Logger } from "../../lib/logger.ts";
import type { IngressView, ServiceEndpoint } from "../../model/api-types.ts";
import { endpointOrder } from "./endpoint-order.ts";
import { hostOf, IngressTable } from "./ingress-table.ts";

/** Headers about one hop that a proxy must not pass on (RFC 9110 §7.6.1). */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];

const text = (status: number, body: string) => new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

/** A request body up to this size is read first, so the request can go to another replica when one fails; a bigger one is streamed, to one replica. */
const REPLAYABLE_BODY_BYTES = 1024 * 1024;

/**
 * The node's HTTP ingress: routes a request by Host and longest path prefix to a healthy endpoint of
 * the route (round robin), with X-Forwarded-For, -Proto and -Host, and streams the answer back. A
 * replica that cannot be reached is skipped for the next one (unless a large request body was
 * already streamed to it); a host no route has is a 404, a route with no healthy endpoint a 503.
 */
export class IngressProxy {
  private table = new IngressTable([]);
  private turn = 0;

  constructor(private readonly log: Logger) {}

  /** Routes by the catalog's ingress routes from now on. */
  update(routes: readonly IngressView[]): void {
    this.table = new IngressTable(routes);
  }

  /** Answers one request; `client` is the address it came from. */
  async handle(request: Request, client: string): Promise<Response> {
    const url = new URL(request.url);
    const hostHeader = request.headers.get("host") ?? url.host;
    const route = this.table.match(hostHeader, url.pathname);
    if (!route) return text(404, `no ingress route for ${hostOf(hostHeader)}${url.pathname}`);
    const endpoints = endpointOrder(route.endpoints, this.turn++);
    if (endpoints.length === 0) return text(503, `no healthy endpoint for ${route.host}${route.path} (job ${route.job})`);
    const headers = forwardedHeaders(request.headers, client, hostHeader, url.protocol.slice(0, -1));
    const body = await bodyOf(request);
    let failure = "";
    for (const endpoint of endpoints) {
      try {
        const upstream = await fetch(`http://${hostPort(endpoint)}${url.pathname}${url.search}`, {
          method: request.method,
          headers,
          body,
          redirect: "manual",
          decompress: false,
          signal: request.signal,
        } as RequestInit);
        return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers: withoutHopHeaders(upstream.headers) });
      } catch (err) {
        failure = `${endpoint.name} on ${endpoint.node}: ${(err as Error).message}`;
        if (request.signal.aborted || body instanceof ReadableStream) break;
      }
    }
    this.log.warn("ingress could not reach an endpoint", { host: route.host, path: url.pathname, error: failure });
    return text(502, `bad gateway: no endpoint of ${route.host}${route.path} answered (${failure})`);
  }
}

/** The request's headers for the endpoint: hop-by-hop ones dropped, the X-Forwarded-* ones added (For appended to). */
function forwardedHeaders(incoming: Headers, client: string, host: string, proto: string): Headers {
  const headers = withoutHopHeaders(incoming);
  const chain = incoming.get("x-forwarded-for");
  headers.set("x-forwarded-for", chain ? `${chain}, ${client}` : client);
  headers.set("x-forwarded-proto", proto);
  headers.set("x-forwarded-host", host);
  return headers;
}

function withoutHopHeaders(incoming: Headers): Headers {
  const headers = new Headers(incoming);
  for (const name of incoming.get("connection")?.split(",") ?? []) headers.delete(name.trim());
  for (const name of HOP_BY_HOP) headers.delete(name);
  return headers;
}

function hostPort(endpoint: ServiceEndpoint): string {
  return endpoint.address.includes(":") ? `[${endpoint.address}]:${endpoint.port}` : `${endpoint.address}:${endpoint.port}`;
}

/** The request's body: read whole when it is small enough to send again, else its stream. */
async function bodyOf(request: Request): Promise<ArrayBuffer | ReadableStream<Uint8Array> | null> {
  if (request.body === null) return null;
  const length = Number(request.headers.get("content-length") ?? Number.NaN);
  return length <= REPLAYABLE_BODY_BYTES ? await request.arrayBuffer() : request.body;
}
