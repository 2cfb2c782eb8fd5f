import type { z } from "zod";
import { MAX_PAGE } from "../manager/paging.ts";
import { JOB_FILE_SCHEMA } from "../model/job-schema.ts";
import type { JsonSchema } from "../model/openapi.ts";
import { TASK_STATES } from "../model/task-state.ts";
import { API_ERROR_SCHEMA } from "./errors.ts";
import { WIRE_SCHEMAS } from "./wire-schemas.ts";

/** The zod schemas the routes validate with, by the name the API document gives them. */
export const SCHEMAS = { ...WIRE_SCHEMAS, JobFile: JOB_FILE_SCHEMA, Error: API_ERROR_SCHEMA } satisfies Record<string, z.ZodType>;
export type SchemaName = keyof typeof SCHEMAS;

export const GROUPS = {
  Cluster: "The manager itself: health, metrics, managers, this document.",
  Jobs: "Submit, plan, inspect, scale, revert and stop jobs.",
  Tasks: "Tasks (by id, unique id prefix, or JOB.GROUP.INDEX), their logs, exec, restart and stop.",
  Nodes: "Workers as the manager sees them; drain and eligibility.",
  Services: "The service catalog (NAME.service.cube in every container).",
  Events: "Every state change in the cluster, live or from the recent history.",
  Images: "Images on nodes, and image archives pushed into a node's engine without a registry.",
  Secrets: "Secrets by name (no answer carries a value).",
  Volumes: "Named volumes on the nodes' engines, with the tasks using each.",
  Tokens: "API tokens.",
  Administration: "The keyring and snapshots of the whole state.",
  "Worker protocol": "How workers join, heartbeat, watch their assignments and report their tasks.",
} as const;
export type Group = keyof typeof GROUPS;

export interface QueryParam {
  name: string;
  description: string;
  schema: JsonSchema;
  required?: boolean;
}

/** A JSON body checked by one of SCHEMAS, or a body of another kind (bytes, an archive) described in words. */
export type RouteBody =
  | { schema: SchemaName; types?: string[]; example?: unknown; description?: string }
  | { type: string; description: string };

export interface RouteDoc {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** As the app routes it (`:param`, no trailing slash). */
  path: string;
  group: Group;
  summary: string;
  description?: string;
  /** Every `:param` of the path, described. */
  params?: Record<string, string>;
  query?: QueryParam[];
  body?: RouteBody;
  /** The success answer; JSON unless `type` says otherwise. */
  ok: { description: string; status?: number[]; type?: string; schema?: SchemaName };
  /** Error statuses beyond those openapi.ts gives every route of the kind (400, 401, 403, 404, 413, 503). */
  errors?: number[];
}

const JOB = { name: "the job's name" };
const TASK = { id: "a task id, a unique id prefix, or JOB.GROUP.INDEX (the live task of that slot)" };
const NODE = { id: "a node id (or, where a user asks, its name)" };
const PAGE: QueryParam[] = [
  { name: "limit", description: "at most this many items, and a `next` token for the rest; without it, the whole list", schema: { type: "integer", minimum: 1, maximum: MAX_PAGE } },
  { name: "next", description: "the `next` token of the page before", schema: { type: "string" } },
];
const EVENT_FILTERS: QueryParam[] = [
  { name: "job", description: "only events about this job", schema: { type: "string" } },
  { name: "node", description: "only events about this node", schema: { type: "string" } },
  { name: "task", description: "only events about this task (id, prefix or JOB.GROUP.INDEX)", schema: { type: "string" } },
  { name: "type", description: "only events of this kind", schema: { type: "string", enum: ["job", "task", "node", "service"] } },
];
const LONG_POLL: QueryParam[] = [
  { name: "index", description: "the index of the last answer: the call waits until there is something newer", schema: { type: "string" } },
  { name: "wait", description: "how long to wait for a change (a duration, at most 5m; default 30s)", schema: { type: "string", examples: ["30s"] } },
];
const JOB_FILE_TYPES = ["application/json", "application/yaml"];

/** An example job that the API accepts; the document shows it with `POST /v1/jobs` and `POST /v1/plan`. */
export const EXAMPLE_JOB = {
  name: "web",
  type: "service",
  datacenters: ["dc1"],
  tasks: [
    {
      name: "http",
      image: "cube-test/busybox:latest",
      command: ["httpd", "-f", "-p", "8080"],
      count: 3,
      env: { GREETING: "hello" },
      resources: { cpu: 0.1, memory: 64, disk: 10 },
      ports: [{ name: "http", container: 8080 }],
      restart: { attempts: 3, interval: "5m", delay: "1s", mode: "fail" },
      health: { http: "/", port: "http", interval: "5s", timeout: "2s", failures: 3 },
    },
  ],
};

/**
 * One entry per route the manager serves outside the dashboard: the API document (openapi.ts) is
 * made from this table, and test/unit/openapi.test.ts fails for a route the app serves without an
 * entry here. Who may call each route is not repeated here: it comes from route-roles.ts.
 */
export const ROUTE_DOCS: readonly RouteDoc[] = [
  { method: "GET", path: "/v1/health", group: "Cluster", summary: "Liveness", ok: { description: "`{status, role, version}`" } },
  { method: "GET", path: "/metrics", group: "Cluster", summary: "Prometheus metrics", ok: { description: "the Prometheus text format", type: "text/plain" } },
  { method: "GET", path: "/v1/managers", group: "Cluster", summary: "The managers, which one leads, when each was last seen", ok: { description: "`{managers}`" } },
  { method: "GET", path: "/v1/openapi.json", group: "Cluster", summary: "This document", description: "The OpenAPI 3.1 document of this API; the dashboard shows it at /ui/api.", ok: { description: "an OpenAPI 3.1 document" } },

  {
    method: "POST",
    path: "/v1/jobs",
    group: "Jobs",
    summary: "Submit or update a job",
    description: "A changed job file makes a new version; an unchanged one changes nothing. Names must be unique, ports declared once, checks must point at declared ports (checked beyond the schema).",
    body: { schema: "JobFile", types: JOB_FILE_TYPES, example: EXAMPLE_JOB, description: "a job file, as JSON or YAML (by Content-Type, else by its text)" },
    ok: { description: "`{job, created, changed}`: 201 for a new job, 200 for an update", status: [201, 200] },
    // A service name another job already publishes.
    errors: [409],
  },
  {
    method: "POST",
    path: "/v1/plan",
    group: "Jobs",
    summary: "Dry run: where each task would go",
    description: "Nothing is stored. Each task's placement with every node's score, and why other nodes were rejected.",
    body: { schema: "JobFile", types: JOB_FILE_TYPES, example: EXAMPLE_JOB },
    ok: { description: "the plan" },
  },
  { method: "GET", path: "/v1/jobs", group: "Jobs", summary: "List jobs", query: PAGE, ok: { description: "`{jobs, next}`" } },
  { method: "GET", path: "/v1/jobs/:name", group: "Jobs", summary: "One job with its tasks", params: JOB, ok: { description: "the job, its summary and its tasks (and a periodic job's runs)" } },
  {
    method: "DELETE",
    path: "/v1/jobs/:name",
    group: "Jobs",
    summary: "Stop a job",
    description: "Its tasks go to `stopped`.",
    params: JOB,
    query: [{ name: "purge", description: "also forget the job", schema: { type: "boolean" } }],
    ok: { description: "the stopped job" },
  },
  { method: "GET", path: "/v1/jobs/:name/versions", group: "Jobs", summary: "A job's versions", params: JOB, ok: { description: "`{versions}`, each with its spec and what became of its rollout" } },
  { method: "POST", path: "/v1/jobs/:name/revert", group: "Jobs", summary: "Run an old version again", params: JOB, body: { schema: "RevertRequest" }, ok: { description: "`{job, created, changed}`" }, errors: [409] },
  { method: "POST", path: "/v1/jobs/:name/scale", group: "Jobs", summary: "Change a task group's count", params: JOB, body: { schema: "ScaleRequest" }, ok: { description: "`{job, created, changed}`" }, errors: [409] },

  {
    method: "GET",
    path: "/v1/tasks",
    group: "Tasks",
    summary: "List tasks",
    query: [
      { name: "job", description: "only this job's tasks", schema: { type: "string" } },
      { name: "node", description: "only tasks on this node (id or name)", schema: { type: "string" } },
      { name: "state", description: "only tasks in this state", schema: { type: "string", enum: [...TASK_STATES] } },
      ...PAGE,
    ],
    ok: { description: "`{tasks, next}`" },
  },
  { method: "GET", path: "/v1/tasks/:id", group: "Tasks", summary: "One task with its events", params: TASK, ok: { description: "the task and its history of events" } },
  {
    method: "GET",
    path: "/v1/tasks/:id/logs",
    group: "Tasks",
    summary: "Container output",
    description: "Proxied from the task's worker; a finished task's output stays readable for an hour.",
    params: TASK,
    query: [
      { name: "follow", description: "keep the answer open and stream new output", schema: { type: "boolean" } },
      { name: "tail", description: "only the last N lines", schema: { type: "integer", minimum: 0 } },
    ],
    ok: { description: "the output as it comes", type: "text/plain" },
    errors: [409],
  },
  {
    method: "POST",
    path: "/v1/tasks/:id/exec",
    group: "Tasks",
    summary: "Run a command in the task's container",
    params: TASK,
    body: { schema: "ExecRequest" },
    ok: { description: "the command's output and exit code, from the worker" },
    errors: [409],
  },
  { method: "POST", path: "/v1/tasks/:id/restart", group: "Tasks", summary: "Restart a running task in place", params: TASK, ok: { description: "the worker's answer" }, errors: [409] },
  { method: "POST", path: "/v1/tasks/:id/stop", group: "Tasks", summary: "Stop a task (a service replaces it)", params: TASK, ok: { description: "the task" }, errors: [409] },

  { method: "GET", path: "/v1/nodes", group: "Nodes", summary: "List nodes", query: PAGE, ok: { description: "`{nodes, next}`: capacity, allocation, live stats, status" } },
  { method: "GET", path: "/v1/nodes/:id", group: "Nodes", summary: "One node", params: NODE, ok: { description: "the node" } },
  { method: "POST", path: "/v1/nodes/:id/drain", group: "Nodes", summary: "Move a node's tasks elsewhere and keep new ones off", params: NODE, ok: { description: "the node" } },
  { method: "POST", path: "/v1/nodes/:id/eligibility", group: "Nodes", summary: "Let new tasks onto a node, or keep them off", params: NODE, body: { schema: "EligibilityRequest" }, ok: { description: "the node" } },

  { method: "GET", path: "/v1/services", group: "Services", summary: "List services", ok: { description: "`{services}` with their healthy and all endpoints" } },
  { method: "GET", path: "/v1/services/:name", group: "Services", summary: "One service's endpoints", params: { name: "the service's name" }, ok: { description: "the service" } },

  {
    method: "GET",
    path: "/v1/events",
    group: "Events",
    summary: "Stream every change in the cluster",
    description: "Server-sent events, one per change, each with its index as id and its kind as event name; a comment every 15 s keeps the connection open.",
    query: EVENT_FILTERS,
    ok: { description: "an event stream", type: "text/event-stream" },
  },
  { method: "GET", path: "/v1/events/history", group: "Events", summary: "The recent changes the manager keeps", description: "Oldest first.", query: [...EVENT_FILTERS, ...PAGE], ok: { description: "`{events, next}`" } },

  {
    method: "GET",
    path: "/v1/images/nodes",
    group: "Images",
    summary: "Which nodes have an image",
    query: [
      { name: "image", description: "the image reference", schema: { type: "string" }, required: true },
      { name: "node", description: "ask only these nodes (repeatable); default every ready, eligible node", schema: { type: "string" } },
    ],
    ok: { description: "`{image, nodes}`: each node's image id, null when it has none" },
  },
  {
    method: "POST",
    path: "/v1/images/load",
    group: "Images",
    summary: "Load an image archive into one node's engine",
    query: [{ name: "node", description: "the node to load it into", schema: { type: "string" }, required: true }],
    body: { type: "application/x-tar", description: "the image archive (docker save), streamed to the node's worker; no size limit" },
    ok: { description: "`{nodeId, nodeName, loaded, bytes}`" },
    errors: [409],
  },

  {
    method: "GET",
    path: "/v1/volumes",
    group: "Volumes",
    summary: "List named volumes",
    description: "Each node's worker is asked for the volumes its engine holds for Cube's jobs, with their sizes; a node that cannot be asked is an entry of `errors`.",
    query: [
      { name: "node", description: "only these nodes (repeatable; a name or an id)", schema: { type: "string" } },
      { name: "job", description: "only this job's volumes", schema: { type: "string" } },
    ],
    ok: { description: "`{volumes, errors}`: job, name, node, size, the live tasks using each" },
  },
  {
    method: "DELETE",
    path: "/v1/volumes/:job/:name",
    group: "Volumes",
    summary: "Remove a job's named volume and its data",
    description: "From every node that holds it, or the `?node=` named; refused while a live task uses it.",
    params: { job: "the job's name", name: "the volume's name in the job" },
    query: [{ name: "node", description: "only on these nodes (repeatable)", schema: { type: "string" } }],
    ok: { description: "`{removed}`: the nodes it was removed from" },
    errors: [409],
  },
  { method: "GET", path: "/v1/secrets", group: "Secrets", summary: "List secrets", description: "Names, versions, when changed and which jobs use each; never a value.", query: PAGE, ok: { description: "`{secrets, next}`" } },
  { method: "GET", path: "/v1/secrets/:name", group: "Secrets", summary: "One secret (without its value)", params: { name: "the secret's name" }, ok: { description: "the secret" } },
  {
    method: "PUT",
    path: "/v1/secrets/:name",
    group: "Secrets",
    summary: "Store a secret's value",
    description: "A new value rolls every running job that uses the secret onto it.",
    params: { name: "the secret's name" },
    body: { type: "application/octet-stream", description: "the value, exactly as given" },
    ok: { description: "`{secret, created, changed, rolled}`: 201 for a new secret, 200 for a new version", status: [201, 200] },
  },
  { method: "DELETE", path: "/v1/secrets/:name", group: "Secrets", summary: "Forget a secret", description: "Refused while a running job uses it.", params: { name: "the secret's name" }, ok: { description: "the secret" }, errors: [409] },

  { method: "GET", path: "/v1/tokens", group: "Tokens", summary: "List tokens (never their secrets)", ok: { description: "`{tokens}`" } },
  { method: "POST", path: "/v1/tokens", group: "Tokens", summary: "Create a token", description: "The secret is in this answer only.", body: { schema: "TokenRequest" }, ok: { description: "`{token, secret}`", status: [201] } },
  { method: "DELETE", path: "/v1/tokens/:id", group: "Tokens", summary: "Revoke a token", params: { id: "the token's id" }, ok: { description: "the token" } },

  { method: "POST", path: "/v1/keyring/rotate", group: "Administration", summary: "Seal every kept secret version with a new data key", ok: { description: "`{activeKey, resealed}`" } },
  { method: "GET", path: "/v1/snapshot", group: "Administration", summary: "Online backup of the whole state", ok: { description: "the snapshot, one JSON record a line", type: "application/x-ndjson" } },
  {
    method: "POST",
    path: "/v1/snapshot",
    group: "Administration",
    summary: "Replace the whole state with a backup",
    body: { type: "application/x-ndjson", description: "a snapshot from GET /v1/snapshot (up to 1 GiB)" },
    ok: { description: "`{restored}`" },
  },

  {
    method: "POST",
    path: "/v1/nodes/register",
    group: "Worker protocol",
    summary: "Join (or re-join) the cluster",
    body: { schema: "Registration" },
    ok: { description: "`{node, credential}`: the credential when the join token admitted the node" },
  },
  { method: "POST", path: "/v1/nodes/:id/heartbeat", group: "Worker protocol", summary: "Heartbeat with node stats", params: NODE, body: { schema: "Heartbeat" }, ok: { description: "`{status, images}`: the digest of the node's images the manager holds" } },
  {
    method: "GET",
    path: "/v1/nodes/:id/assignments",
    group: "Worker protocol",
    summary: "Long-poll the node's assignments",
    params: NODE,
    query: [...LONG_POLL, { name: "delta", description: "1: answer with only the assignments added or changed since `index`, and the ids of those `removed` (the whole list when the node was last told another index)", schema: { type: "string", enum: ["1"] } }],
    ok: { description: "`{index, assignments}`, with `removed` when `delta=1` was honoured" },
  },
  { method: "GET", path: "/v1/nodes/:id/services", group: "Worker protocol", summary: "Long-poll the service routes the node's tasks need", params: NODE, query: LONG_POLL, ok: { description: "`{index, services, ingress}`" } },
  { method: "POST", path: "/v1/nodes/:id/tasks", group: "Worker protocol", summary: "Report task state changes", description: "Applied in order in one transaction; each answered on its own.", params: NODE, body: { schema: "TaskReports" }, ok: { description: "`{results}`" } },
  {
    method: "GET",
    path: "/v1/nodes/:id/tasks/:taskId/secrets",
    group: "Worker protocol",
    summary: "The secret values a task assigned to the node needs",
    description: "Only while the task is to run on that node; never cached.",
    params: { ...NODE, taskId: "the task's id" },
    ok: { description: "`{secrets}`" },
  },
];
