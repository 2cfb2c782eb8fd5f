import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { ForbiddenError, UnauthorizedError } from "../lib/errors.ts";
import type { Principal } from "../manager/control-plane.ts";
import { type TokenRole, USER_ROLES, type UserRole } from "../model/token.ts";
import { type Requirement, requirementOf } from "./route-roles.ts";

declare module "hono" {
  interface ContextVariableMap {
    principal: Principal;
  }
}

/** Where a browser keeps its token after signing in to the dashboard (HttpOnly, SameSite=Strict). */
export const TOKEN_COOKIE = "cube_token";

const RANK: Record<UserRole, number> = { read: 1, submit: 2, admin: 3 };

/** Who a secret speaks for, or null for anything that is not a live token's secret. */
export type VerifyToken = (secret: string) => Principal | null;

/** A browser's EventSource cannot send headers, so these two streams also take `?token=`. */
const QUERY_TOKEN_ROUTES = /^\/v1\/(events|tasks\/[^/]+\/logs)$/;

/** Whether a request may carry its token as `?token=` (the API document says so for these routes). */
export function acceptsQueryToken(method: string, path: string): boolean {
  return method === "GET" && QUERY_TOKEN_ROUTES.test(path);
}

/** The secret a request carries: its Authorization header, else (where allowed) `?token=`, else the dashboard's cookie. */
export function credentialOf(c: Context): string | undefined {
  const header = c.req.header("authorization");
  // A header that is there but malformed counts as a wrong token, not as no token.
  if (header !== undefined) return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? "";
  const query = acceptsQueryToken(c.req.method, c.req.path) ? c.req.query("token") : undefined;
  return query ?? getCookie(c, TOKEN_COOKIE);
}

/** The token roles that meet a requirement (a `node` route also needs the credential of that very node); none for a public route. */
export function rolesMeeting(requires: Requirement): TokenRole[] {
  if (requires === "public") return [];
  if (requires === "node") return ["worker"];
  if (requires === "join") return ["join", "worker"];
  return USER_ROLES.filter((role) => RANK[role] >= RANK[requires]);
}

function authorize(principal: Principal, requires: Exclude<Requirement, "public">, nodeId: string | undefined): void {
  if (!rolesMeeting(requires).includes(principal.role)) {
    if (requires === "node") throw new ForbiddenError("only a worker's own credential may call this route");
    if (requires === "join") throw new ForbiddenError("registering a worker needs the join token (cube serve --role=worker --join-token=...)");
    throw new ForbiddenError(`this needs a token with role ${requires}${requires === "admin" ? "" : " or above"}; this token's role is ${principal.role}`);
  }
  if (requires === "node" && principal.role === "worker" && principal.nodeId !== nodeId) throw new ForbiddenError(`this credential belongs to node ${principal.nodeId}, not to node ${nodeId}`);
}

/**
 * Refuses every call that the route table (route-roles.ts) does not open to the caller: 401 without
 * a known, live token, 403 when the token may not do this. The principal is kept on the context.
 */
export function authenticate(verify: VerifyToken): MiddlewareHandler {
  return async (c, next) => {
    const { requires, nodeId } = requirementOf(c.req.method, c.req.path);
    if (requires === "public") return next();
    const secret = credentialOf(c);
    if (!secret) throw new UnauthorizedError("this call needs a token: send `Authorization: Bearer <token>` (the CLI takes --token or CUBE_TOKEN)");
    const principal = verify(secret);
    if (!principal) throw new UnauthorizedError("the token is not valid: it is unknown, mistyped or revoked");
    authorize(principal, requires, nodeId);
    c.set("principal", principal);
    return next();
  };
}
