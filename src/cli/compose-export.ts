import { formatDuration } from "../model/duration.ts";
import { parseCompose } from "../model/compose/compose-schema.ts";
import { composeToJob } from "../model/compose/compose-to-job.ts";
import type { JobSpec, TaskSpec } from "../model/job.ts";
import { validateJob } from "../model/job-schema.ts";
import { secretFileDefault } from "../model/secret.ts";
import { canonicalJson } from "../store/canonical-json.ts";

/** The job file's name of each task spec field that has one of its own. */
const FILE_KEYS: Partial<Record<keyof TaskSpec, string>> = { networkMode: "network_mode", capAdd: "cap_add", shutdownDelayMs: "shutdown_delay", dependsOn: "depends_on" };

const CONDITIONS = { started: "service_started", healthy: "service_healthy", completed: "service_completed_successfully" } as const;

function healthcheck(t: TaskSpec): Record<string, unknown> | undefined {
  const h = t.health;
  if (h?.kind !== "exec") return undefined;
  const [shell, flag, script] = h.command;
  const test = h.command.length === 3 && shell === "/bin/sh" && flag === "-c" ? ["CMD-SHELL", script] : ["CMD", ...h.command];
  return { test, interval: formatDuration(h.intervalMs), timeout: formatDuration(h.timeoutMs), retries: h.failures, ...(h.graceMs ? { start_period: formatDuration(h.graceMs) } : {}) };
}

const CONSTRAINT_KEYS: Record<string, string> = { "node.name": "node.hostname", "node.id": "node.id" };

/** The task in Compose's words, as far as they go (what they cannot say goes to `x-cube`, see composeOf). */
function serviceOf(t: TaskSpec, type: JobSpec["type"]): Record<string, unknown> {
  const constraints = t.constraints.flatMap((c) => {
    const key = c.attribute.startsWith("node.label.") ? `node.labels.${c.attribute.slice("node.label.".length)}` : CONSTRAINT_KEYS[c.attribute];
    return key && (c.operator === "=" || c.operator === "!=") ? [`${key} ${c.operator === "=" ? "==" : "!="} ${c.value}`] : [];
  });
  const spreads = t.spread?.map((s) => ({ spread: s.attribute === "node.name" ? "node.hostname" : s.attribute.replace(/^node\.label\./, "node.labels.") }));
  return {
    image: t.image,
    ...(t.command ? { command: t.command } : {}),
    ...(t.entrypoint ? { entrypoint: t.entrypoint } : {}),
    ...(Object.keys(t.env).length ? { environment: t.env } : {}),
    ...(Object.keys(t.labels).length ? { labels: t.labels } : {}),
    ...(t.ports.length ? { ports: t.ports.map((p) => (p.host !== undefined ? `${p.host}:${p.container}` : String(p.container))) } : {}),
    deploy: {
      ...(type === "system" ? { mode: "global" } : { replicas: t.count }),
      resources: { limits: { cpus: String(t.resources.cpu), memory: `${t.resources.memory}M` } },
      restart_policy: { condition: t.restart.condition ?? "any", delay: formatDuration(t.restart.delayMs), max_attempts: t.restart.attempts, window: formatDuration(t.restart.intervalMs) },
      ...(t.update ? { update_config: { parallelism: t.update.maxParallel, monitor: formatDuration(t.update.minHealthyTimeMs), failure_action: t.update.autoRevert ? "rollback" : "pause" } } : {}),
      ...(constraints.length || spreads?.length ? { placement: { ...(constraints.length ? { constraints } : {}), ...(spreads?.length ? { preferences: spreads } : {}) } } : {}),
    },
    ...(healthcheck(t) ? { healthcheck: healthcheck(t) } : {}),
    ...(t.capAdd ? { cap_add: t.capAdd } : {}),
    ...(t.privileged !== undefined ? { privileged: t.privileged } : {}),
    ...(t.volumes?.length || t.mounts?.length
      ? { volumes: [...(t.volumes ?? []).map((v) => `${v.name}:${v.target}${v.readonly ? ":ro" : ""}`), ...(t.mounts ?? []).map((m) => `${m.source}:${m.target}${m.readonly ? ":ro" : ""}`)] }
      : {}),
    ...(t.dependsOn?.length ? { depends_on: Object.fromEntries(t.dependsOn.map((d) => [d.task, { condition: CONDITIONS[d.condition] }])) } : {}),
    // Compose has no env for a secret: a task with one keeps its secrets under x-cube (see composeOf).
    ...(t.secrets?.length ? { secrets: t.secrets.map((r) => (r.file === secretFileDefault(r.name) ? r.name : { source: r.name, target: r.file })) } : {}),
  };
}

/** The task without the secret versions the manager pinned: a file names none (see toJobFile). */
function unpinned(t: TaskSpec): TaskSpec {
  return t.secrets ? { ...t, secrets: t.secrets.map(({ version: _version, ...ref }) => ref) } : t;
}

/**
 * A job as a Compose file that `cube run` turns back into the same job: each task group a service in
 * Compose's own words, and under `x-cube` (a service's, or the file's) the job-file fields those words
 * cannot say or would say differently (an http check, a port's name, the job's datacenters). Found by
 * converting the draft back and comparing, so nothing is lost.
 * @example composeOf(spec, toJobFile(spec)).services.web.image
 */
export function composeOf(spec: JobSpec, jobFile: Record<string, unknown>): Record<string, unknown> {
  const fileTasks = jobFile.tasks as Record<string, unknown>[];
  const services: Record<string, Record<string, unknown>> = Object.fromEntries(spec.tasks.map((t) => [t.name, serviceOf(t, spec.type)]));
  const volumes = [...new Set(spec.tasks.flatMap((t) => t.volumes?.map((v) => v.name) ?? []))];
  const secrets = [...new Set(spec.tasks.flatMap((t) => t.secrets?.map((r) => r.name) ?? []))];
  const draft = {
    name: spec.name,
    services,
    ...(volumes.length ? { volumes: Object.fromEntries(volumes.map((v) => [v, {}])) } : {}),
    // Kept by Cube (cube secret put), as Compose says of a secret the platform has.
    ...(secrets.length ? { secrets: Object.fromEntries(secrets.map((name) => [name, { external: true }])) } : {}),
  };
  const back = backAgain(draft);
  spec.tasks.map(unpinned).forEach((t, i) => {
    const again = back?.tasks[i];
    const extra: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(t), ...Object.keys(again ?? {})]) as Set<keyof TaskSpec>) {
      if (key === "name" || (again && canonicalJson(t[key] ?? null) === canonicalJson(again[key] ?? null))) continue;
      const fileKey = FILE_KEYS[key] ?? key;
      const value = (fileTasks[i] as Record<string, unknown>)[fileKey];
      // The one field the job may lack where the Compose words give it: services for published ports (and their
      // default shutdown delay, gone with them).
      if (value !== undefined) extra[fileKey] = value;
      else if (key === "services") extra.services = [];
    }
    if (Object.keys(extra).length > 0) (services[t.name] as Record<string, unknown>)["x-cube"] = extra;
  });
  const { name: _name, type, tasks: _tasks, ...jobFields } = jobFile;
  const jobExtra = { ...(type === "batch" ? { type } : {}), ...Object.fromEntries(Object.entries(jobFields).filter(([, v]) => canonicalJson(v) !== "[]")) };
  return escapeDollars({ ...draft, ...(Object.keys(jobExtra).length ? { "x-cube": jobExtra } : {}) }) as Record<string, unknown>;
}

/** Every `$` in a string value as `$$`, so `cube run` reads the text back as it is, not as variables. */
function escapeDollars(node: unknown): unknown {
  if (typeof node === "string") return node.replaceAll("$", "$$$$");
  if (Array.isArray(node)) return node.map(escapeDollars);
  if (node !== null && typeof node === "object") return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, escapeDollars(v)]));
  return node;
}

/** The draft read back as `cube run` would; null when it does not make a valid job (then every field goes to x-cube). */
function backAgain(draft: Record<string, unknown>): JobSpec | null {
  try {
    const { job } = composeToJob(parseCompose(draft).file, { name: String(draft.name), dir: "/", env: {}, envFile: () => null, home: "/" });
    return validateJob(job);
  } catch {
    return null;
  }
}
