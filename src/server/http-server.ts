import type { Hono } from "hono";

/** PEM contents of a server certificate (with its chain) and its private key. */
export interface TlsKeyPair {
  cert: string;
  key: string;
}

export interface HttpServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface ListenOptions {
  port: number;
  hostname: string;
  tls?: TlsKeyPair;
}

/**
 * Listens with Bun.serve, over TLS when given a key pair. Idle timeouts are off because workers
 * long-poll and users follow logs and events for as long as they like; port 0 picks a free port.
 * A port that cannot be had is an error that says why and what to do.
 */
export function listen(fetch: (request: Request) => Response | Promise<Response>, options: ListenOptions): ReturnType<typeof Bun.serve> {
  try {
    return Bun.serve({ port: options.port, hostname: options.hostname, fetch, idleTimeout: 0, ...(options.tls ? { tls: options.tls } : {}) });
  } catch (err) {
    const reason = (err as { code?: string }).code === "EADDRINUSE" ? "the port is already in use" : (err as Error).message;
    throw new Error(`cannot listen on ${options.hostname}:${options.port}: ${reason} (choose another with --port)`);
  }
}

/** The URL a client on this machine reaches a server at (a wildcard bind is reached on loopback). */
export function localUrl(options: ListenOptions, port: number): string {
  const host = options.hostname === "0.0.0.0" || options.hostname === "::" ? "127.0.0.1" : options.hostname;
  return `${options.tls ? "https" : "http"}://${host}:${port}`;
}

/** Serves a Hono app (see `listen`). */
export function startHttpServer(app: Hono, options: ListenOptions): HttpServer {
  const server = listen(app.fetch, options);
  const port = server.port as number;
  return { url: localUrl(options, port), port, stop: () => server.stop(true) };
}
