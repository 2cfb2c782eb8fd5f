/** Errors the API maps to a status code; the message is for the user and names what was wrong. */
export class NotFoundError extends Error {
  readonly code = "not_found";
}

export class ConflictError extends Error {
  readonly code: string = "conflict";
}

/**
 * A write refused before anything was stored because another manager wrote the same records first
 * (optimistic concurrency on a shared store): 409 `write_conflict`; the same request may be sent again.
 */
export class WriteConflictError extends ConflictError {
  override readonly code = "write_conflict";
}

export class BadRequestError extends Error {
  readonly code = "bad_request";
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** A worker the manager needed to reach (to proxy logs, say) did not answer. */
export class UpstreamError extends Error {
  readonly code = "worker_unreachable";
}

/** No credential, or one the manager does not know (wrong, revoked): 401. */
export class UnauthorizedError extends Error {
  readonly code = "unauthorized";
}

/** A valid credential that may not do this (too little role, another node's credential): 403. */
export class ForbiddenError extends Error {
  readonly code = "forbidden";
}

/** The store cannot take writes now (etcd without quorum, unreachable, or this manager lost its leadership): 503, retry later. */
export class UnavailableError extends Error {
  readonly code: string = "unavailable";
}

/** The manager has more work waiting than it can take now; nothing was stored: 503 `busy`, the same request again after Retry-After. */
export class BusyError extends UnavailableError {
  override readonly code = "busy";
}

/** This manager is reading the shared store again after a refused write, and takes no writes meanwhile (a moment): 503 `reloading`; nothing was stored. */
export class StoreReloadingError extends UnavailableError {
  override readonly code = "reloading";
}
