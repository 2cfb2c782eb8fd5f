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

/**
 * Serves a Hono app with Bun.serve, over TLS when given a key pair. Idle timeouts are off because
 * workers long-poll and users follow logs and events for as long as they like; port 0 picks a free port.
 */
export function startHttpServer(app: Hono, options: { port: number; hostname: string; tls?: TlsKeyPair }): HttpServer {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ port: options.port, hostname: options.hostname, fetch: app.fetch, idleTimeout: 0, ...(options.tls ? { tls: options.tls } : {}) });
  } catch (err) {
    const reason = (err as { code?: string }).code === "EADDRINUSE" ? "the port is already in use" : (err as Error).message;
    throw new Error(`cannot listen on ${options.hostname}:${options.port}: ${reason} (choose another with --port)`);
  }
  const host = options.hostname === "0.0.0.0" || options.hostname === "::" ? "127.0.0.1" : options.hostname;
  const port = server.port as number;
  return { url: `${options.tls ? "https" : "http"}://${host}:${port}`, port, stop: () => server.stop(true) };
}
