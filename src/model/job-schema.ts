import { z } from "zod";
import { cronProblem, timezoneProblem } from "./cron.ts";
import { parseDuration } from "./duration.ts";
import { type HealthCheck, type JobSpec, type JobType, type RestartPolicy, SCHEDULER_ALGORITHMS, type TaskSpec, type UpdateStrategy } from "./job.ts";
import { isComposeFile } from "./compose/compose-schema.ts";
import { dependencyIssues } from "./job-dependencies.ts";
import { type JobFileFormat, jobFileFormat } from "./job-file-format.ts";
import { type FieldIssue, JobValidationError } from "./job-validation-error.ts";
import { SECRET_NAME, SECRET_NAME_RULE, secretFileDefault } from "./secret.ts";

export { type FieldIssue, JobValidationError };

/** Hard ceiling on replicas per task spec, so one request cannot ask the manager for millions of tasks. */
export const MAX_COUNT = 100_000;

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?$/;

const name = (what: string) =>
  z.string().regex(NAME, `${what} must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit`);

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: `"${text}" is not a duration (use e.g. 500ms, 5s, 5m, 1h)` });
    return z.NEVER;
  }
  return ms;
});

const port = z.number().int().min(1).max(65535);

const HOST = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** How long a task with services or ingress keeps serving after it left the catalog, unless it says otherwise. */
export const DEFAULT_SHUTDOWN_DELAY_MS = 5_000;

const service = z.strictObject({
  name: name("service name"),
  port: z.string().min(1),
  tags: z.array(z.string().min(1).max(128)).max(32).default([]),
});

const ingressRule = z.strictObject({
  host: z
    .string()
    .max(253)
    .transform((h) => h.toLowerCase())
    .pipe(z.string().regex(HOST, "ingress host must be a host name like shop.example.com (letters, digits, '-' and dots)")),
  path: z.string().max(1024).regex(/^\/\S*$/, "ingress path must start with / and contain no spaces").default("/"),
  port: z.string().min(1),
});

const resources = z.strictObject({
  cpu: z.number().positive().max(1024).default(0.1),
  memory: z.number().int().min(4, "memory is in MiB and Docker needs at least 4").max(4_194_304).default(64),
  disk: z.number().int().min(0).max(1 << 30).default(0),
});

const restart = z.strictObject({
  attempts: z.number().int().min(0).max(1000).optional(),
  interval: duration.optional(),
  delay: duration.optional(),
  mode: z.enum(["fail", "delay"]).optional(),
  condition: z.enum(["any", "on-failure"]).optional(),
});

const RESTART_DEFAULTS: Record<JobType, RestartPolicy> = {
  service: { attempts: 2, intervalMs: 30 * 60_000, delayMs: 15_000, mode: "fail" },
  system: { attempts: 2, intervalMs: 30 * 60_000, delayMs: 15_000, mode: "fail" },
  batch: { attempts: 3, intervalMs: 24 * 3_600_000, delayMs: 15_000, mode: "fail" },
};

const health = z
  .strictObject({
    http: z.string().startsWith("/", "http check path must start with /").optional(),
    tcp: z.string().optional(),
    exec: z.array(z.string()).min(1).optional(),
    port: z.string().optional(),
    interval: duration.default(10_000),
    timeout: duration.default(2_000),
    failures: z.number().int().min(1).max(100).default(3),
    grace: duration.optional(),
  })
  .superRefine((h, ctx) => {
    const kinds = [h.http, h.tcp, h.exec].filter((k) => k !== undefined).length;
    if (kinds !== 1) ctx.addIssue({ code: "custom", message: "give exactly one of http, tcp or exec" });
    if (h.http !== undefined && h.port === undefined) ctx.addIssue({ code: "custom", path: ["port"], message: "an http check needs the name of a port" });
  });

const update = z.strictObject({
  max_parallel: z.number().int().min(1).max(MAX_COUNT).optional(),
  min_healthy_time: duration.optional(),
  healthy_deadline: duration.optional(),
  auto_revert: z.boolean().optional(),
});

const UPDATE_DEFAULTS: UpdateStrategy = { maxParallel: 1, minHealthyTimeMs: 10_000, healthyDeadlineMs: 5 * 60_000, autoRevert: false };

/** The job's update block with the task's own fields on top; none when neither gives one. */
function mergeUpdate(jobLevel?: z.output<typeof update>, taskLevel?: z.output<typeof update>): UpdateStrategy | undefined {
  if (!jobLevel && !taskLevel) return undefined;
  const merged = { ...jobLevel, ...taskLevel };
  return {
    maxParallel: merged.max_parallel ?? UPDATE_DEFAULTS.maxParallel,
    minHealthyTimeMs: merged.min_healthy_time ?? UPDATE_DEFAULTS.minHealthyTimeMs,
    healthyDeadlineMs: merged.healthy_deadline ?? UPDATE_DEFAULTS.healthyDeadlineMs,
    autoRevert: merged.auto_revert ?? UPDATE_DEFAULTS.autoRevert,
  };
}

const CAPABILITY = /^[A-Za-z_]{1,40}$/;
const absolutePath = z
  .string()
  .max(4096)
  .regex(/^\/[^\0:]*$/, "must be an absolute path without ':'")
  // So an allowed prefix (--allow=bind-mounts:/srv) cannot be left with /srv/../etc.
  .refine((p) => !p.split("/").some((s) => s === "." || s === ".."), "must not contain '.' or '..' segments");
const mount = z.strictObject({ source: absolutePath, target: absolutePath, readonly: z.boolean().default(false) });
const volume = z.strictObject({ name: name("volume name"), target: absolutePath, readonly: z.boolean().default(false) });
const dependency = z.strictObject({ task: z.string().min(1), condition: z.enum(["started", "healthy", "completed"]).default("started") });

const constraint = z.strictObject({
  attribute: z.string().min(1).max(256),
  operator: z.enum(["=", "!=", "regexp", "version", "distinct_hosts"]).default("="),
  value: z.union([z.string(), z.number(), z.boolean()]).transform(String).default("true"),
});

const spread = z.strictObject({
  attribute: z
    .string()
    .max(256)
    .regex(/^node\.(datacenter|name|id|label\.[A-Za-z0-9._/-]+)$/, "spread attribute must be node.datacenter, node.name, node.id or node.label.<key>"),
  weight: z.number().int().min(0).max(100).default(50),
});
const spreads = z.array(spread).min(1).max(16);

const secretRef = z.strictObject({
  name: z.string().regex(SECRET_NAME, SECRET_NAME_RULE),
  file: absolutePath.optional(),
  env: z.string().regex(ENV_KEY, "env names are letters, digits and _, not starting with a digit").optional(),
});

const task = z.strictObject({
  name: name("task name"),
  image: z.string().min(1).max(512).regex(/^[^\s]+$/, "image must not contain spaces"),
  command: z.array(z.string().max(65_536)).max(1024).optional(),
  entrypoint: z.array(z.string().max(65_536)).max(1024).optional(),
  count: z.number().int().min(0).max(MAX_COUNT).default(1),
  env: z.record(z.string().regex(ENV_KEY, "env keys are letters, digits and _, not starting with a digit"), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  labels: z.record(z.string().regex(LABEL_KEY, "label keys are letters, digits and . _ / -"), z.string().max(1024)).default({}),
  resources: resources.default({ cpu: 0.1, memory: 64, disk: 0 }),
  ports: z.array(z.strictObject({ name: name("port name"), container: port, host: port.optional() })).max(64).default([]),
  restart: restart.optional(),
  health: health.optional(),
  constraints: z.array(constraint).max(64).default([]),
  spread: spreads.optional(),
  update: update.optional(),
  privileged: z.boolean().optional(),
  network_mode: z.enum(["bridge", "host", "none"]).optional(),
  cap_add: z.array(z.string().regex(CAPABILITY, "capabilities are names like NET_ADMIN").transform((c) => c.toUpperCase().replace(/^CAP_/, ""))).max(64).optional(),
  mounts: z.array(mount).max(64).optional(),
  volumes: z.array(volume).max(64).optional(),
  depends_on: z.array(dependency).max(64).optional(),
  disconnect: z.strictObject({ stop_after: duration }).optional(),
  services: z.array(service).max(32).optional(),
  ingress: z.array(ingressRule).max(32).optional(),
  shutdown_delay: duration.pipe(z.number().max(10 * 60_000, "shutdown_delay is at most 10m")).optional(),
  secrets: z.array(secretRef).max(64).optional(),
});

const job = z.strictObject({
  name: name("job name"),
  type: z.enum(["service", "batch", "system"]).default("service"),
  datacenters: z.array(name("datacenter")).max(64).default([]),
  constraints: z.array(constraint).max(64).default([]),
  scheduler: z.enum(SCHEDULER_ALGORITHMS).optional(),
  spread: spreads.optional(),
  update: update.optional(),
  schedule: z.string().min(1).max(256).optional(),
  timezone: z.string().min(1).max(64).optional(),
  overlap: z.enum(["skip", "allow"]).optional(),
  tasks: z.array(task).min(1, "a job needs at least one task").max(64),
});

/** A job file's fields as a schema, before defaults and the checks that need the whole job (crossFieldIssues); the API document shows it. */
export const JOB_FILE_SCHEMA: z.ZodType = job;

/** Runs of a periodic job are named NAME-<unix seconds>: 11 more characters, still a valid name. */
export const MAX_PERIODIC_NAME = 52;

/** A schedule needs a batch job, a cron expression croner reads, a time zone that exists, and a name its runs can extend. */
function scheduleIssues(spec: z.output<typeof job>): FieldIssue[] {
  if (spec.schedule === undefined) {
    return (["timezone", "overlap"] as const).filter((f) => spec[f] !== undefined).map((f) => ({ path: f, message: `${f} only applies to a periodic job (one with a schedule)` }));
  }
  const issues: FieldIssue[] = [];
  if (spec.type !== "batch") issues.push({ path: "schedule", message: `only a batch job can have a schedule (this one is type: ${spec.type})` });
  if (spec.name.length > MAX_PERIODIC_NAME) issues.push({ path: "name", message: `a periodic job's name is at most ${MAX_PERIODIC_NAME} characters (each run is named NAME-<unix time>)` });
  const zone = timezoneProblem(spec.timezone ?? "UTC");
  if (zone) issues.push({ path: "timezone", message: zone });
  const cron = zone ? null : cronProblem(spec.schedule, spec.timezone ?? "UTC");
  if (cron) issues.push({ path: "schedule", message: cron });
  return issues;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/** Checks that need the whole job: names unique, ports declared once, checks point at declared ports, one spread per attribute. */
function crossFieldIssues(spec: z.output<typeof job>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  const routes = new Set<string>();
  spec.tasks.forEach((t, i) => {
    if (seen.has(t.name)) issues.push({ path: `tasks[${i}].name`, message: `task name "${t.name}" is used twice` });
    seen.add(t.name);
    const portNames = new Set<string>();
    const hostPorts = new Set<number>();
    t.ports.forEach((p, j) => {
      if (portNames.has(p.name)) issues.push({ path: `tasks[${i}].ports[${j}].name`, message: `port name "${p.name}" is used twice` });
      if (p.host !== undefined && hostPorts.has(p.host)) issues.push({ path: `tasks[${i}].ports[${j}].host`, message: `host port ${p.host} is used twice` });
      portNames.add(p.name);
      if (p.host !== undefined) hostPorts.add(p.host);
    });
    const checkPort = t.health?.port ?? t.health?.tcp;
    if (checkPort !== undefined && !portNames.has(checkPort)) {
      issues.push({ path: `tasks[${i}].health`, message: `port "${checkPort}" is not declared in tasks[${i}].ports` });
    }
    issues.push(...repeatedSpreads(t.spread, `tasks[${i}].spread`));
    issues.push(...servingIssues(t, i, portNames, routes));
    issues.push(...volumeIssues(t, i));
    issues.push(...secretIssues(t, `tasks[${i}]`));
  });
  issues.push(...repeatedSpreads(spec.spread, "spread"));
  issues.push(...dependencyIssues(spec.tasks.map((t) => ({ ...t, checked: t.health !== undefined, completes: spec.type === "batch" || t.restart?.condition === "on-failure" }))));
  issues.push(...scheduleIssues(spec));
  return issues;
}

/** Services and ingress rules name declared ports; a task publishes a service once; a host and path is routed to one task of the job. */
function servingIssues(t: z.output<typeof task>, i: number, portNames: ReadonlySet<string>, routes: Set<string>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const undeclared = (port: string, path: string) => {
    if (!portNames.has(port)) issues.push({ path, message: `port "${port}" is not declared in tasks[${i}].ports` });
  };
  // One name may be published on several ports (a Compose service's ports), each port once.
  const published = new Set<string>();
  t.services?.forEach((s, j) => {
    undeclared(s.port, `tasks[${i}].services[${j}].port`);
    if (published.has(`${s.name}/${s.port}`)) issues.push({ path: `tasks[${i}].services[${j}].name`, message: `service "${s.name}" is published twice on port ${s.port} by this task` });
    published.add(`${s.name}/${s.port}`);
  });
  t.ingress?.forEach((r, j) => {
    undeclared(r.port, `tasks[${i}].ingress[${j}].port`);
    const route = `${r.host}${r.path}`;
    if (routes.has(route)) issues.push({ path: `tasks[${i}].ingress[${j}]`, message: `${route} is routed twice in this job` });
    routes.add(route);
  });
  return issues;
}

/** A task mounts a volume once, and one thing at each path. */
function volumeIssues(t: z.output<typeof task>, i: number): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const names = new Set<string>();
  const targets = new Set(t.mounts?.map((m) => m.target));
  t.volumes?.forEach((v, j) => {
    if (names.has(v.name)) issues.push({ path: `tasks[${i}].volumes[${j}].name`, message: `volume "${v.name}" is mounted twice` });
    if (targets.has(v.target)) issues.push({ path: `tasks[${i}].volumes[${j}].target`, message: `${v.target} is mounted twice` });
    names.add(v.name);
    targets.add(v.target);
  });
  return issues;
}

/** A task's secrets: each named once, each file its own (not a mount's or volume's target), each env name not set otherwise. */
function secretIssues(t: z.output<typeof task>, path: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const names = new Set<string>();
  const files = new Set([...(t.mounts ?? []), ...(t.volumes ?? [])].map((m) => m.target));
  const envs = new Set(Object.keys(t.env));
  t.secrets?.forEach((s, j) => {
    const file = s.file ?? secretFileDefault(s.name);
    if (names.has(s.name)) issues.push({ path: `${path}.secrets[${j}].name`, message: `secret "${s.name}" is listed twice` });
    if (files.has(file)) issues.push({ path: `${path}.secrets[${j}].file`, message: `${file} is already the target of another secret or mount` });
    if (s.env !== undefined && envs.has(s.env)) issues.push({ path: `${path}.secrets[${j}].env`, message: `${s.env} is already set by env or another secret` });
    names.add(s.name);
    files.add(file);
    if (s.env !== undefined) envs.add(s.env);
  });
  return issues;
}

function repeatedSpreads(list: { attribute: string }[] | undefined, path: string): FieldIssue[] {
  const seen = new Set<string>();
  const issues: FieldIssue[] = [];
  list?.forEach((s, j) => {
    if (seen.has(s.attribute)) issues.push({ path: `${path}[${j}].attribute`, message: `${s.attribute} is spread over twice` });
    seen.add(s.attribute);
  });
  return issues;
}

/** Services, ingress rules and the shutdown delay (defaulted for a task that serves, so rolling updates drain it). */
function serving(t: z.output<typeof task>): Pick<TaskSpec, "services" | "ingress" | "shutdownDelayMs"> {
  const serves = (t.services?.length ?? 0) + (t.ingress?.length ?? 0) > 0;
  const delay = t.shutdown_delay ?? (serves ? DEFAULT_SHUTDOWN_DELAY_MS : undefined);
  return {
    ...(t.services?.length ? { services: t.services } : {}),
    ...(t.ingress?.length ? { ingress: t.ingress } : {}),
    ...(delay !== undefined ? { shutdownDelayMs: delay } : {}),
  };
}

function toHealthCheck(h: z.output<typeof health>): HealthCheck {
  const timing = { intervalMs: h.interval, timeoutMs: h.timeout, failures: h.failures, ...(h.grace !== undefined ? { graceMs: h.grace } : {}) };
  if (h.http !== undefined) return { kind: "http", path: h.http, port: h.port ?? "", ...timing };
  if (h.tcp !== undefined) return { kind: "tcp", port: h.tcp, ...timing };
  return { kind: "exec", command: h.exec ?? [], ...timing };
}

/**
 * Validates a decoded job file and fills in defaults. Throws JobValidationError listing every problem with its field path.
 * @example validateJob({ name: "web", tasks: [{ name: "http", image: "nginx" }] }).tasks[0].count // 1
 */
export function validateJob(input: unknown): JobSpec {
  const result = job.safeParse(input);
  if (!result.success) {
    throw new JobValidationError(
      result.error.issues.flatMap((i) =>
        i.code === "unrecognized_keys"
          ? i.keys.map((key) => ({ path: formatPath([...i.path, key]), message: "unknown field" }))
          : [{ path: formatPath(i.path), message: i.message }],
      ),
    );
  }
  const issues = crossFieldIssues(result.data);
  if (issues.length > 0) throw new JobValidationError(issues);
  const spec = result.data;
  return {
    name: spec.name,
    type: spec.type,
    datacenters: spec.datacenters,
    constraints: spec.constraints,
    ...(spec.scheduler !== undefined ? { scheduler: spec.scheduler } : {}),
    ...(spec.spread !== undefined ? { spread: spec.spread } : {}),
    ...(spec.schedule !== undefined ? { schedule: spec.schedule, timezone: spec.timezone ?? "UTC", overlap: spec.overlap ?? "skip" } : {}),
    tasks: spec.tasks.map((t) => {
      const defaults = RESTART_DEFAULTS[spec.type];
      const health = t.health && toHealthCheck(t.health);
      const rollout = mergeUpdate(spec.update, t.update);
      return {
        name: t.name,
        image: t.image,
        ...(t.command ? { command: t.command } : {}),
        ...(t.entrypoint ? { entrypoint: t.entrypoint } : {}),
        count: spec.type === "system" ? 1 : t.count,
        env: t.env,
        labels: t.labels,
        resources: t.resources,
        ports: t.ports,
        restart: {
          attempts: t.restart?.attempts ?? defaults.attempts,
          intervalMs: t.restart?.interval ?? defaults.intervalMs,
          delayMs: t.restart?.delay ?? defaults.delayMs,
          mode: t.restart?.mode ?? defaults.mode,
          ...(t.restart?.condition === "on-failure" ? { condition: "on-failure" as const } : {}),
        },
        ...(health ? { health } : {}),
        constraints: t.constraints,
        ...(t.spread !== undefined ? { spread: t.spread } : {}),
        ...(rollout ? { update: rollout } : {}),
        ...(t.privileged !== undefined ? { privileged: t.privileged } : {}),
        ...(t.network_mode !== undefined ? { networkMode: t.network_mode } : {}),
        ...(t.cap_add !== undefined ? { capAdd: t.cap_add } : {}),
        ...(t.mounts !== undefined ? { mounts: t.mounts } : {}),
        ...(t.volumes?.length ? { volumes: t.volumes } : {}),
        ...(t.depends_on?.length ? { dependsOn: t.depends_on } : {}),
        ...(t.disconnect !== undefined ? { disconnect: { stopAfterMs: t.disconnect.stop_after } } : {}),
        ...serving(t),
        ...(t.secrets?.length ? { secrets: t.secrets.map((s) => ({ name: s.name, file: s.file ?? secretFileDefault(s.name), ...(s.env !== undefined ? { env: s.env } : {}) })) } : {}),
      };
    }),
  };
}

/** Decodes a job file's text (YAML is a superset of JSON, but JSON gets JSON's clearer errors). */
export function decodeJobFile(text: string, format: JobFileFormat): unknown {
  try {
    return format === "json" ? JSON.parse(text) : Bun.YAML.parse(text);
  } catch (err) {
    throw new JobValidationError([{ path: "", message: `job file is not valid ${format.toUpperCase()}: ${(err as Error).message}` }]);
  }
}

/**
 * A job file's text as a validated spec; every job file the manager is sent becomes a job here.
 * Without a format, the text decides (see jobFileFormat).
 * @example parseJobFile(body, jobFileFormat(body, { contentType: "application/yaml" })).name
 */
export function parseJobFile(text: string, format: JobFileFormat = jobFileFormat(text)): JobSpec {
  const doc = decodeJobFile(text, format);
  if (isComposeFile(doc)) {
    // Its variables, env files and default name are the caller's machine's: the CLI converts it.
    throw new JobValidationError([{ path: "services", message: "this is a compose file: cube run FILE and cube plan FILE turn it into a job (the API takes the job)" }]);
  }
  return validateJob(doc);
}
