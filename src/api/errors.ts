import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { BadRequestError, BusyError, ConflictError, ForbiddenError, NotFoundError, StoreReloadingError, UnauthorizedError, UnavailableError, UpstreamError, WriteConflictError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { ApiErrorBody } from "../model/api-types.ts";
import { JobValidationError } from "../model/job-validation-error.ts";
import { InvalidTransitionError } from "../model/task-state.ts";

/** Every error answer of the API, as the API document shows it. */
export const API_ERROR_SCHEMA = z
  .strictObject({
    error: z.strictObject({
      code: z.string().describe("invalid_job, bad_request, unauthorized, forbidden, not_found, conflict, write_conflict, worker_unreachable, too_large, unavailable, reloading or internal (write_conflict and reloading: nothing was stored, send the same request again)"),
      message: z.string().describe("what went wrong and what to do about it"),
      details: z.unknown().optional().describe("for invalid_job and bad_request: the problems, each with the field's path"),
    }),
  })
  .meta({ description: "The error: 4xx for the caller's fault or the cluster's state, 5xx for the manager's." }) satisfies z.ZodType<ApiErrorBody>;

function body(code: string, message: string, details?: unknown): ApiErrorBody {
  return { error: { code, message, ...(details !== undefined ? { details } : {}) } };
}

/** Maps errors to the API's JSON shape: 4xx for the caller's fault or the cluster's state, 500 (without internals) for ours. */
export function errorHandler(log: Logger, role: "manager" | "worker" = "manager") {
  return (err: Error, c: Context) => {
    const reply = (status: ContentfulStatusCode, code: string, details?: unknown) => c.json(body(code, err.message, details), status);
    if (err instanceof JobValidationError) return reply(400, "invalid_job", err.issues);
    if (err instanceof BadRequestError) return reply(400, "bad_request", err.details);
    if (err instanceof UnauthorizedError) {
      c.header("WWW-Authenticate", 'Bearer realm="cube"');
      return reply(401, "unauthorized");
    }
    if (err instanceof ForbiddenError) return reply(403, "forbidden");
    if (err instanceof NotFoundError) return reply(404, "not_found");
    if (err instanceof WriteConflictError) return reply(409, "write_conflict");
    if (err instanceof ConflictError || err instanceof InvalidTransitionError) return reply(409, "conflict");
    // A dead or unreachable worker is the state of the cluster, not a fault of the manager: a 409 that names it.
    if (err instanceof UpstreamError) return reply(409, "worker_unreachable");
    // Not the caller's fault, and nothing was stored: the same request may be sent again (to this manager or another).
    if (err instanceof StoreReloadingError || err instanceof BusyError) {
      c.header("Retry-After", "1");
      return reply(503, err.code);
    }
    if (err instanceof UnavailableError) return reply(503, "unavailable");
    if ("status" in err && typeof err.status === "number" && err.status >= 400 && err.status < 500) {
      return reply(err.status as ContentfulStatusCode, "bad_request");
    }
    log.error("request failed", { path: c.req.path, error: err.message, stack: err.stack });
    return c.json(body("internal", `internal error; see the ${role}'s log`), 500);
  };
}

export function notFoundHandler(c: Context) {
  return c.json(body("not_found", `no route for ${c.req.method} ${c.req.path}`), 404);
}
