import { DriverError } from "../driver.ts";

/** What dockerode rejects with: an HTTP status from the engine, or a socket error. */
interface EngineError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  message?: string;
}

export function engineStatus(err: unknown): number | undefined {
  return (err as EngineError).statusCode;
}

/** The engine's own words when it gave some, else the error's message. */
export function engineMessage(err: unknown): string {
  const e = err as EngineError;
  return (e.json?.message ?? e.message ?? String(err)).trim();
}

/** Socket-level failures become one clear "engine unreachable" error; everything else passes through. */
export function wrapEngineError(err: unknown, socketPath: string): unknown {
  const code = (err as EngineError).code;
  if (code === "ECONNREFUSED" || code === "ENOENT" || code === "EACCES" || code === "ConnectionRefused" || code === "FailedToOpenSocket") {
    return new DriverError(`cannot reach the Docker engine at ${socketPath}: ${engineMessage(err)} (is dockerd running?)`, "engine_unreachable");
  }
  return err;
}
