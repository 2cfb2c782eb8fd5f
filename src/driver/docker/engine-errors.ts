import { DriverError } from "../driver.ts";

/** What dockerode rejects with: an HTTP status from the engine, or a socket error. */
interface EngineError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  message?: string;
}

/** What a user can do about each socket failure. */
const SOCKET_HINTS: Record<string, string> = {
  ENOENT: "no socket there: is dockerd running, or does DOCKER_HOST point elsewhere?",
  ECONNREFUSED: "nothing answers on the socket: is dockerd running?",
  EACCES: "permission denied: run as a user in the docker group",
};

export function engineStatus(err: unknown): number | undefined {
  return (err as EngineError).statusCode;
}

/**
 * The engine's own words when it gave some. dockerode leaves `json` empty for streaming calls (pull,
 * follow logs) and puts the words after its "(HTTP code 500) server error - " prefix instead.
 */
export function engineMessage(err: unknown): string {
  const e = err as EngineError;
  const message = e.json?.message ?? e.message ?? String(err);
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, "").trim();
}

/** A socket-level failure as one "engine unreachable" error naming the socket; undefined for any other error. */
export function engineUnreachable(err: unknown, socketPath: string): DriverError | undefined {
  const hint = SOCKET_HINTS[(err as EngineError).code ?? ""];
  if (hint === undefined) return undefined;
  return new DriverError(`cannot reach the Docker engine at ${socketPath}: ${engineMessage(err)} (${hint})`, "engine_unreachable");
}

/**
 * A failed engine call as a DriverError: socket failures name the socket, a 404 means the container is
 * gone, anything else says what was being done and the engine's reason.
 * @example toDriverError(err, "cannot stop container 0123456789ab", "/var/run/docker.sock")
 */
export function toDriverError(err: unknown, action: string, socketPath: string): DriverError {
  if (err instanceof DriverError) return err;
  return engineUnreachable(err, socketPath) ?? new DriverError(`${action}: ${engineMessage(err)}`, engineStatus(err) === 404 ? "not_found" : "container_failed");
}
