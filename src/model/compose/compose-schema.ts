import { z } from "zod";
import { type FieldIssue, JobValidationError } from "../job-validation-error.ts";

/**
 * The part of the Compose specification Cube reads. Objects are strict: a key not listed here is one
 * Cube does not support, reported (and dropped) by `parseCompose` rather than refused, unless strict.
 * Long forms inside lists (ports, volumes, secrets) read only the keys Cube uses.
 */
const text = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const words = z.union([z.string(), z.array(z.string())]);
const mapOrList = z.union([z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])), z.array(z.string())]);

const resources = z.strictObject({ cpus: text.optional(), memory: text.optional() });

const deploy = z.strictObject({
  mode: z.enum(["replicated", "global"]).optional(),
  replicas: z.number().int().min(0).optional(),
  labels: mapOrList.optional(),
  resources: z.strictObject({ limits: resources.optional(), reservations: resources.optional() }).optional(),
  placement: z
    .strictObject({
      constraints: z.array(z.string()).optional(),
      preferences: z.array(z.strictObject({ spread: z.string() })).optional(),
      max_replicas_per_node: z.number().int().min(0).optional(),
    })
    .optional(),
  update_config: z
    .strictObject({
      parallelism: z.number().int().min(0).optional(),
      monitor: z.string().optional(),
      failure_action: z.enum(["pause", "continue", "rollback"]).optional(),
    })
    .optional(),
  restart_policy: z
    .strictObject({
      condition: z.enum(["none", "on-failure", "any"]).optional(),
      delay: z.string().optional(),
      max_attempts: z.number().int().min(0).optional(),
      window: z.string().optional(),
    })
    .optional(),
});

const healthcheck = z.strictObject({
  test: words.optional(),
  interval: z.string().optional(),
  timeout: z.string().optional(),
  retries: z.number().int().min(1).optional(),
  start_period: z.string().optional(),
  disable: z.boolean().optional(),
});

const port = z.union([
  z.string(),
  z.number().int(),
  z.object({ target: z.number().int(), published: z.union([z.string(), z.number().int()]).optional(), protocol: z.string().optional(), host_ip: z.string().optional() }),
]);

const volume = z.union([z.string(), z.object({ type: z.string(), source: z.string().optional(), target: z.string(), read_only: z.boolean().optional() })]);

const condition = z.enum(["service_started", "service_healthy", "service_completed_successfully"]);
const dependsOn = z.union([z.array(z.string()), z.record(z.string(), z.strictObject({ condition: condition.default("service_started"), required: z.boolean().optional() }))]);

const envFile = z.union([z.string(), z.array(z.union([z.string(), z.object({ path: z.string(), required: z.boolean().optional() })]))]);

const service = z.strictObject({
  image: z.string().optional(),
  command: words.optional(),
  entrypoint: words.optional(),
  environment: mapOrList.optional(),
  env_file: envFile.optional(),
  ports: z.array(port).optional(),
  expose: z.array(z.union([z.string(), z.number().int()])).optional(),
  deploy: deploy.optional(),
  scale: z.number().int().min(0).optional(),
  cpus: text.optional(),
  mem_limit: text.optional(),
  restart: z.string().optional(),
  healthcheck: healthcheck.optional(),
  cap_add: z.array(z.string()).optional(),
  privileged: z.boolean().optional(),
  volumes: z.array(volume).optional(),
  labels: mapOrList.optional(),
  secrets: z.array(z.union([z.string(), z.object({ source: z.string(), target: z.string().optional() })])).optional(),
  depends_on: dependsOn.optional(),
  /** Job-file fields for the task, laid over what the rest says (what `cube job inspect --format=compose` cannot say in Compose's words). */
  "x-cube": z.record(z.string(), z.unknown()).optional(),
});

const topVolume = z.union([z.null(), z.strictObject({ labels: mapOrList.optional() })]);
const topSecret = z.strictObject({ name: z.string().optional(), file: z.string().optional(), environment: z.string().optional(), external: z.boolean().optional() });

const compose = z.strictObject({
  name: z.string().optional(),
  version: z.unknown().optional(),
  services: z.record(z.string(), service.nullable()),
  volumes: z.record(z.string(), topVolume).optional(),
  secrets: z.record(z.string(), topSecret).optional(),
  "x-cube": z.record(z.string(), z.unknown()).optional(),
});

export type ComposeFile = z.output<typeof compose>;
export type ComposeService = z.output<typeof service>;

/** Whether a decoded file is a Compose file (top-level `services:`) rather than a job file. */
export function isComposeFile(doc: unknown): doc is { services: unknown } {
  return doc !== null && typeof doc === "object" && !Array.isArray(doc) && "services" in doc && !("tasks" in doc);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

function without(doc: unknown, path: readonly PropertyKey[], key: string): void {
  let node = doc as Record<PropertyKey, unknown>;
  for (const p of path) node = node[p] as Record<PropertyKey, unknown>;
  delete node[key];
}

/**
 * Validates a decoded Compose file. Keys Cube does not support are dropped and listed by their path
 * (`services.web.build`), as are extension keys (`x-…`) other than `x-cube`, silently; anything
 * else wrong throws a JobValidationError with the field's path.
 */
export function parseCompose(doc: unknown): { file: ComposeFile; unsupported: string[] } {
  const copy = structuredClone(doc);
  const unsupported: string[] = [];
  for (;;) {
    const result = compose.safeParse(copy);
    if (result.success) return { file: result.data, unsupported: unsupported.sort() };
    const unknown = result.error.issues.filter((i) => i.code === "unrecognized_keys");
    if (unknown.length === 0) {
      throw new JobValidationError(result.error.issues.map((i): FieldIssue => ({ path: formatPath(i.path), message: i.message })), "compose file");
    }
    for (const issue of unknown) {
      for (const key of issue.keys) {
        without(copy, issue.path, key);
        if (!key.startsWith("x-")) unsupported.push(formatPath([...issue.path, key]));
      }
    }
  }
}
