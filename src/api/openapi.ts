import { z } from "zod";
import type { Requirement } from "../model/token.ts";
import type { HttpMethod, JsonSchema, OpenApiDocument, OpenApiMediaType, OpenApiOperation, OpenApiParameter, OpenApiResponse, Reference } from "../model/openapi.ts";
import { acceptsQueryToken, rolesMeeting, TOKEN_COOKIE } from "./auth.ts";
import { GROUPS, ROUTE_DOCS, type RouteDoc, SCHEMAS, type SchemaName } from "./route-docs.ts";
import { requirementOf } from "./route-roles.ts";

/** The error answers an operation may give, each a shared response of the document. */
const ERROR_RESPONSES: Record<number, { name: string; description: string }> = {
  400: { name: "BadRequest", description: "The request is not valid; the message (and `details`) name the field." },
  401: { name: "Unauthorized", description: "No token, or an unknown or revoked one." },
  403: { name: "Forbidden", description: "The token may not do this." },
  404: { name: "NotFound", description: "Nothing by that name or id." },
  409: { name: "Conflict", description: "The request does not fit the cluster's state, or the worker it needs is down or does not answer." },
  413: { name: "TooLarge", description: "The body is larger than the manager takes (1 MiB unless it was started otherwise)." },
  503: { name: "Unavailable", description: "The store did not take the change; nothing was stored, and the same request may be sent again." },
};

const WHO: Record<Requirement, string> = {
  public: "Anyone may call this, without a token.",
  read: "Needs a token with role read, submit or admin.",
  submit: "Needs a token with role submit or admin.",
  admin: "Needs a token with role admin.",
  join: "Needs the join token, or a worker's own credential.",
  node: "Needs the credential of the node named by `{id}`: only that node's worker may call this.",
};

const schemaRef = (name: SchemaName): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** `/v1/jobs/:name` as OpenAPI writes it: `/v1/jobs/{name}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, "{$1}");
}

function pathParams(route: RouteDoc): string[] {
  return [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
}

/** `GET /v1/jobs/:name/versions` → `getJobsByNameVersions`. */
function operationId(route: RouteDoc): string {
  const words = route.path
    .split("/")
    .filter((s) => s !== "" && s !== "v1")
    .map((s) => (s.startsWith(":") ? `by_${s.slice(1)}` : s))
    .flatMap((s) => s.split(/[^A-Za-z0-9]+/));
  return [route.method.toLowerCase(), ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join("");
}

function parameters(route: RouteDoc): OpenApiParameter[] {
  const inPath = pathParams(route).map((name): OpenApiParameter => {
    const description = route.params?.[name];
    if (description === undefined) throw new Error(`${route.method} ${route.path}: path parameter :${name} has no description in route-docs.ts`);
    return { name, in: "path", required: true, description, schema: { type: "string" } };
  });
  const inQuery = (route.query ?? []).map((q): OpenApiParameter => ({ name: q.name, in: "query", required: q.required ?? false, description: q.description, schema: q.schema }));
  return [...inPath, ...inQuery];
}

function requestBody(route: RouteDoc): OpenApiOperation["requestBody"] {
  const body = route.body;
  if (!body) return undefined;
  if ("type" in body) return { required: true, description: body.description, content: { [body.type]: { schema: { type: "string", contentMediaType: body.type } } } };
  const media: OpenApiMediaType = { schema: schemaRef(body.schema), ...(body.example !== undefined ? { example: body.example } : {}) };
  const content = Object.fromEntries((body.types ?? ["application/json"]).map((type) => [type, media]));
  return { required: true, ...(body.description ? { description: body.description } : {}), content };
}

/** The error statuses every route of this kind may answer, and the route's own. */
function errorStatuses(route: RouteDoc, requires: Requirement): number[] {
  const statuses = new Set(route.errors ?? []);
  if (route.body || route.query?.length) statuses.add(400);
  if (requires !== "public") [401, 403].forEach((s) => statuses.add(s));
  if (pathParams(route).length > 0) statuses.add(404);
  if (route.body && "schema" in route.body) statuses.add(413);
  if (route.method !== "GET") statuses.add(503);
  return [...statuses].sort((a, b) => a - b);
}

function responses(route: RouteDoc, requires: Requirement): Record<string, OpenApiResponse | Reference> {
  const type = route.ok.type ?? "application/json";
  const schema: JsonSchema = route.ok.schema ? schemaRef(route.ok.schema) : type === "application/json" ? { type: "object" } : { type: "string" };
  const ok: OpenApiResponse = { description: route.ok.description, content: { [type]: { schema } } };
  const answers: Record<string, OpenApiResponse | Reference> = Object.fromEntries((route.ok.status ?? [200]).map((status) => [String(status), ok]));
  for (const status of errorStatuses(route, requires)) {
    const shared = ERROR_RESPONSES[status];
    if (!shared) throw new Error(`${route.method} ${route.path}: no shared response for status ${status}; add it to ERROR_RESPONSES`);
    answers[String(status)] = { $ref: `#/components/responses/${shared.name}` };
  }
  return answers;
}

function operation(route: RouteDoc): OpenApiOperation {
  const { requires } = requirementOf(route.method, route.path);
  const schemes = ["bearerAuth", "cookieAuth", ...(acceptsQueryToken(route.method, route.path) ? ["queryToken"] : [])];
  const body = requestBody(route);
  return {
    operationId: operationId(route),
    tags: [route.group],
    summary: route.summary,
    description: [route.description, WHO[requires]].filter(Boolean).join(" "),
    parameters: parameters(route),
    ...(body ? { requestBody: body } : {}),
    responses: responses(route, requires),
    security: requires === "public" ? [] : schemes.map((scheme) => ({ [scheme]: [] })),
    "x-cube-requires": requires,
    "x-cube-roles": rolesMeeting(requires),
  };
}

function componentSchema(schema: z.ZodType): JsonSchema {
  // Requests are described as a caller writes them: before defaults and conversions (durations stay "5s").
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return json as JsonSchema;
}

/**
 * The OpenAPI 3.1 document of the manager's API (`GET /v1/openapi.json`), made from the route table
 * (route-docs.ts), the roles table (route-roles.ts) and the zod schemas the routes validate with.
 * @example openApiDocument("1.2.0").paths["/v1/jobs"]?.post?.["x-cube-roles"] // ["submit", "admin"]
 */
export function openApiDocument(version: string): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const route of ROUTE_DOCS) {
    const item = (paths[openApiPath(route.path)] ??= {});
    const method = route.method.toLowerCase() as HttpMethod;
    if (item[method]) throw new Error(`${route.method} ${route.path} is in route-docs.ts twice`);
    item[method] = operation(route);
  }
  const errorResponse = (description: string): OpenApiResponse => ({ description, content: { "application/json": { schema: schemaRef("Error") } } });
  return {
    openapi: "3.1.0",
    info: {
      title: "Cube manager API",
      version,
      description:
        "Cube's manager API. Send a token as `Authorization: Bearer <token>`; each operation says which roles may call it (`x-cube-roles`). " +
        "Lists take `?limit=N` and answer with a `next` token, passed back as `?next=`. Errors are JSON `{error: {code, message, details}}`, 4xx for the caller's fault.",
    },
    tags: Object.entries(GROUPS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(SCHEMAS).map(([name, schema]) => [name, componentSchema(schema)])),
      responses: Object.fromEntries(Object.values(ERROR_RESPONSES).map(({ name, description }) => [name, errorResponse(description)])),
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "An API token (cube token create), or a worker's credential." },
        cookieAuth: { type: "apiKey", in: "cookie", name: TOKEN_COOKIE, description: "The dashboard's sign-in cookie, set by opening /ui?token=…" },
        queryToken: { type: "apiKey", in: "query", name: "token", description: "For clients that cannot set headers (EventSource): only the event stream and task logs take it." },
      },
    },
  };
}
