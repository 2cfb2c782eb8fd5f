import type { Requirement } from "../model/token.ts";

export type { Requirement };

/** The one table of who may call what; README.md's Security section shows the same. */
export const ROUTE_ROLES: readonly (readonly [method: string, pattern: string, requires: Requirement])[] = [
  ["GET", "/v1/health", "public"],
  // The API's shape only, no cluster state, and the same as the source shows: tools fetch it without a token.
  ["GET", "/v1/openapi.json", "public"],
  ["GET", "/", "public"],
  ["GET", "/ui/assets/:name", "public"],
  ["GET", "/ui", "read"],
  ["GET", "/ui/*", "read"],

  ["GET", "/v1/jobs", "read"],
  ["GET", "/v1/jobs/:name", "read"],
  ["GET", "/v1/jobs/:name/versions", "read"],
  ["GET", "/v1/tasks", "read"],
  ["GET", "/v1/tasks/:id", "read"],
  ["GET", "/v1/tasks/:id/logs", "read"],
  ["GET", "/v1/nodes", "read"],
  ["GET", "/v1/nodes/:id", "read"],
  ["GET", "/v1/services", "read"],
  ["GET", "/v1/services/:name", "read"],
  ["GET", "/v1/events", "read"],
  ["GET", "/v1/events/history", "read"],
  ["GET", "/v1/managers", "read"],
  ["GET", "/metrics", "read"],
  ["GET", "/v1/images/nodes", "read"],
  ["GET", "/v1/volumes", "read"],
  ["GET", "/v1/secrets", "read"],
  ["GET", "/v1/secrets/:name", "read"],

  ["POST", "/v1/jobs", "submit"],
  ["DELETE", "/v1/jobs/:name", "submit"],
  ["POST", "/v1/jobs/:name/scale", "submit"],
  ["POST", "/v1/jobs/:name/revert", "submit"],
  ["POST", "/v1/plan", "submit"],
  ["POST", "/v1/tasks/:id/stop", "submit"],
  ["POST", "/v1/tasks/:id/restart", "submit"],
  ["POST", "/v1/tasks/:id/exec", "submit"],
  // A job's volume holds its data, like the job itself: whoever may purge the job may remove it (never while in use).
  ["DELETE", "/v1/volumes/:job/:name", "submit"],

  ["POST", "/v1/nodes/:id/drain", "admin"],
  ["POST", "/v1/nodes/:id/eligibility", "admin"],
  ["GET", "/v1/tokens", "admin"],
  ["POST", "/v1/tokens", "admin"],
  ["DELETE", "/v1/tokens/:id", "admin"],
  // Loading an image re-points a tag every job on that node may use: beyond any one caller's jobs.
  ["POST", "/v1/images/load", "admin"],
  ["GET", "/v1/snapshot", "admin"],
  ["POST", "/v1/snapshot", "admin"],
  ["PUT", "/v1/secrets/:name", "admin"],
  ["DELETE", "/v1/secrets/:name", "admin"],
  ["POST", "/v1/keyring/rotate", "admin"],

  ["POST", "/v1/nodes/register", "join"],
  ["POST", "/v1/nodes/:id/heartbeat", "node"],
  ["GET", "/v1/nodes/:id/assignments", "node"],
  ["GET", "/v1/nodes/:id/services", "node"],
  ["POST", "/v1/nodes/:id/tasks", "node"],
  ["GET", "/v1/nodes/:id/tasks/:taskId/secrets", "node"],
];

const COMPILED = ROUTE_ROLES.map(([method, pattern, requires]) => {
  const source = pattern
    .split("/")
    .map((segment) => (segment === "*" ? ".*" : segment.startsWith(":") ? `(?<${segment.slice(1)}>[^/]+)` : segment.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return { method, regex: new RegExp(`^${source}$`), requires };
});

/**
 * The requirement of a request, and the node id a `node` route is about. A route missing from the
 * table needs `read` to be read and `admin` to be changed, so a new write route is never open by accident.
 */
export function requirementOf(method: string, path: string): { requires: Requirement; nodeId?: string } {
  const verb = method === "HEAD" ? "GET" : method;
  for (const route of COMPILED) {
    if (route.method !== verb) continue;
    const match = route.regex.exec(path);
    // Decoded as the router decodes it, so `%61` cannot name a different node than the one checked.
    if (match) return { requires: route.requires, nodeId: decodeParam(match.groups?.id) };
  }
  return { requires: verb === "GET" ? "read" : "admin" };
}

function decodeParam(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
