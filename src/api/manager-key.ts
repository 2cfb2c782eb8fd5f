import { timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { UnauthorizedError } from "../lib/errors.ts";

/**
 * Guards a worker's task routes (logs, exec, restart): only the manager, which shows the key of
 * this node's credential (Tokens.workerKey), may call them. Until the worker has joined there is
 * no key, and every call is refused.
 */
export function requireManagerKey(expected: () => string | null): MiddlewareHandler {
  return async (c, next) => {
    const key = expected();
    const given = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const matches = key !== null && given !== undefined && given.length === key.length && timingSafeEqual(Buffer.from(given), Buffer.from(key));
    if (!matches) throw new UnauthorizedError("only this worker's manager may call this route");
    return next();
  };
}
