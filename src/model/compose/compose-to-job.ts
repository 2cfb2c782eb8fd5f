import { posix } from "node:path";
import { formatDuration } from "../duration.ts";
import { type FieldIssue, JobValidationError } from "../job-validation-error.ts";
import { SECRET_NAME, SECRET_NAME_RULE, secretFileDefault } from "../secret.ts";
import { jobServiceName } from "../service-names.ts";
import type { ComposeFile, ComposeService } from "./compose-schema.ts";
import { cubeName, goDuration, mebibytes, portMapping, shellWords, volumeEntry } from "./compose-values.ts";

export interface ComposeContext {
  /** The job's name when the file has none (`--name`, else the file's directory name). */
  name: string;
  /** The file's directory (absolute): relative bind mounts and env files are found from there. */
  dir: string;
  /** Where `environment: [KEY]` without a value takes it from (the CLI's environment over `.env`). */
  env: Readonly<Record<string, string | undefined>>;
  /** The variables of an env file (absolute path), null when it does not exist. */
  envFile: (path: string) => Record<string, string> | null;
  /** For `~` in bind mounts. */
  home: string;
}

export interface ComposeConversion {
  /** A job file (the job file's own notation), one task group per service. */
  job: Record<string, unknown>;
  /** Things people should know: each is one line. */
  notes: string[];
}

/** Docker's healthcheck defaults, which a Compose file relies on when it leaves them out. */
const CHECK_DEFAULTS = { interval: "30s", timeout: "30s", retries: 3 };

const CONDITIONS = { service_started: "started", service_healthy: "healthy", service_completed_successfully: "completed" } as const;

/** Reads what a conversion step found wrong into one list, each with its path in the Compose file. */
class Problems {
  readonly issues: FieldIssue[] = [];
  readonly notes: string[] = [];
  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }
}

function pairs(value: Record<string, string | number | boolean | null> | string[] | undefined, env: ComposeContext["env"]): Record<string, string> {
  if (value === undefined) return {};
  if (!Array.isArray(value)) return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (v === null ? (env[k] === undefined ? [] : [[k, env[k]]]) : [[k, String(v)]])));
  return Object.fromEntries(
    value.flatMap((item) => {
      const at = item.indexOf("=");
      if (at >= 0) return [[item.slice(0, at), item.slice(at + 1)]];
      return env[item] === undefined ? [] : [[item, env[item]]];
    }),
  );
}

const duration = (problems: Problems, path: string, text: string | undefined): string | undefined => {
  if (text === undefined) return undefined;
  const ms = goDuration(text);
  if (ms === undefined) problems.add(path, `"${text}" is not a duration (e.g. 30s, 1m30s)`);
  return ms === undefined ? undefined : formatDuration(ms);
};

function environment(s: ComposeService, path: string, ctx: ComposeContext, problems: Problems): Record<string, string> {
  const files = s.env_file === undefined ? [] : typeof s.env_file === "string" ? [s.env_file] : s.env_file;
  const fromFiles: Record<string, string> = {};
  files.forEach((f, i) => {
    const file = typeof f === "string" ? { path: f, required: true } : { path: f.path, required: f.required ?? true };
    const vars = ctx.envFile(posix.resolve(ctx.dir, file.path));
    if (vars === null && file.required) problems.add(`${path}.env_file${files.length > 1 ? `[${i}]` : ""}`, `${file.path} does not exist`);
    Object.assign(fromFiles, vars ?? {});
  });
  // environment wins over env files, as in Compose.
  return { ...fromFiles, ...pairs(s.environment, ctx.env) };
}

function command(value: string | string[] | undefined): string[] | undefined {
  return value === undefined ? undefined : typeof value === "string" ? shellWords(value) : value;
}

function ports(s: ComposeService, path: string, problems: Problems) {
  const out: { name: string; container: number; host?: number }[] = [];
  const add = (container: number, host: number | undefined) => {
    const taken = out.filter((p) => p.container === container).length;
    out.push({ name: `port-${container}${taken > 0 ? `-${taken + 1}` : ""}`, container, ...(host !== undefined ? { host } : {}) });
  };
  s.ports?.forEach((p, i) => {
    const mapping = typeof p === "object" ? { container: p.target, protocol: p.protocol ?? "tcp", ...(p.published !== undefined ? { host: Number(p.published) } : {}), ...(p.host_ip ? { hostIp: p.host_ip } : {}) } : portMapping(p);
    if (typeof mapping === "string") return problems.add(`${path}.ports[${i}]`, mapping);
    if (mapping.protocol !== "tcp") return problems.notes.push(`${path}.ports[${i}]: only TCP ports are published (${mapping.protocol} left out)`);
    if (mapping.hostIp) problems.notes.push(`${path}.ports[${i}]: published on every address of the node, not only ${mapping.hostIp}`);
    if (out.some((q) => q.host !== undefined && q.host === mapping.host)) return problems.add(`${path}.ports[${i}]`, `host port ${mapping.host} is published twice`);
    add(mapping.container, mapping.host);
  });
  s.expose?.forEach((e, i) => {
    const mapping = portMapping(e);
    if (typeof mapping === "string") return problems.add(`${path}.expose[${i}]`, mapping);
    if (!out.some((q) => q.container === mapping.container)) add(mapping.container, undefined);
  });
  return out;
}

function resources(s: ComposeService, path: string, problems: Problems): Record<string, number> | undefined {
  const limits = s.deploy?.resources?.limits;
  const reservations = s.deploy?.resources?.reservations;
  const cpus = limits?.cpus ?? reservations?.cpus ?? s.cpus;
  const memory = limits?.memory ?? reservations?.memory ?? s.mem_limit;
  const out: Record<string, number> = {};
  if (cpus !== undefined) {
    if (Number.isFinite(Number(cpus)) && Number(cpus) > 0) out.cpu = Number(cpus);
    else problems.add(`${path}.deploy.resources`, `cpus "${cpus}" is not a number of cores`);
  }
  if (memory !== undefined) {
    const mib = mebibytes(memory);
    if (mib === undefined) problems.add(`${path}.deploy.resources`, `memory "${memory}" is not a size (e.g. 512M, 1G)`);
    else out.memory = Math.max(4, mib);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

const CONSTRAINT = /^\s*(node\.labels\.([^\s=!]+)|node\.hostname|node\.id)\s*(==|!=)\s*(.+?)\s*$/;

function placement(s: ComposeService, path: string, problems: Problems) {
  const p = s.deploy?.placement;
  const constraints: { attribute: string; operator: string; value: string }[] = [];
  p?.constraints?.forEach((c, i) => {
    const m = CONSTRAINT.exec(c);
    if (!m) return problems.notes.push(`${path}.deploy.placement.constraints[${i}]: "${c}" is not supported (only node.labels.KEY, node.hostname and node.id with == or !=): left out`);
    const attribute = m[2] !== undefined ? `node.label.${m[2]}` : m[1] === "node.hostname" ? "node.name" : "node.id";
    constraints.push({ attribute, operator: m[3] === "==" ? "=" : "!=", value: m[4] as string });
  });
  if (p?.max_replicas_per_node === 1) constraints.push({ attribute: "node.id", operator: "distinct_hosts", value: "true" });
  else if (p?.max_replicas_per_node !== undefined) problems.notes.push(`${path}.deploy.placement.max_replicas_per_node: only 1 is supported (one replica per node): left out`);
  const spread = p?.preferences?.flatMap((pref, i) => {
    const m = /^node\.labels\.(.+)$/.exec(pref.spread);
    if (m) return [{ attribute: `node.label.${m[1]}` }];
    if (pref.spread === "node.hostname") return [{ attribute: "node.name" }];
    problems.notes.push(`${path}.deploy.placement.preferences[${i}]: spread over "${pref.spread}" is not supported (node.labels.KEY or node.hostname): left out`);
    return [];
  });
  return { ...(constraints.length ? { constraints } : {}), ...(spread?.length ? { spread } : {}) };
}

function restart(s: ComposeService, path: string, problems: Problems): Record<string, unknown> | undefined {
  const policy = s.deploy?.restart_policy;
  if (policy) {
    const out: Record<string, unknown> = {};
    if (policy.condition === "none") Object.assign(out, { attempts: 0, condition: "on-failure" });
    if (policy.condition === "on-failure") out.condition = "on-failure";
    if (policy.max_attempts !== undefined && policy.condition !== "none") out.attempts = policy.max_attempts;
    const delay = duration(problems, `${path}.deploy.restart_policy.delay`, policy.delay);
    const window = duration(problems, `${path}.deploy.restart_policy.window`, policy.window);
    if (delay) out.delay = delay;
    if (window) out.interval = window;
    return Object.keys(out).length > 0 ? out : undefined;
  }
  const m = /^(no|always|unless-stopped|on-failure)(?::(\d+))?$/.exec(s.restart ?? "");
  if (s.restart === undefined) return undefined;
  if (!m) {
    problems.add(`${path}.restart`, `"${s.restart}" is not a restart policy (no, always, on-failure[:N], unless-stopped)`);
    return undefined;
  }
  if (m[1] === "no") return { attempts: 0, condition: "on-failure" };
  if (m[1] === "on-failure") return { condition: "on-failure", ...(m[2] !== undefined ? { attempts: Number(m[2]) } : {}) };
  return undefined;
}

function update(s: ComposeService, path: string, problems: Problems): Record<string, unknown> | undefined {
  const u = s.deploy?.update_config;
  if (!u) return undefined;
  const out: Record<string, unknown> = {};
  // Swarm's parallelism 0 is "all at once"; Cube's default without an update block is the same.
  if (u.parallelism !== undefined && u.parallelism > 0) out.max_parallel = u.parallelism;
  const monitor = duration(problems, `${path}.deploy.update_config.monitor`, u.monitor);
  if (monitor) out.min_healthy_time = monitor;
  if (u.failure_action === "rollback") out.auto_revert = true;
  if (u.failure_action === "continue") problems.notes.push(`${path}.deploy.update_config.failure_action: continue is not supported: a failed update stops (pause)`);
  return Object.keys(out).length > 0 || u.parallelism === 0 ? out : undefined;
}

function health(s: ComposeService, path: string, problems: Problems): Record<string, unknown> | undefined {
  const h = s.healthcheck;
  if (!h || h.disable || h.test === undefined) return undefined;
  const test = typeof h.test === "string" ? ["CMD-SHELL", h.test] : h.test;
  const [kind, ...rest] = test;
  if (kind === "NONE") return undefined;
  let exec: string[];
  if (kind === "CMD") exec = rest;
  else if (kind === "CMD-SHELL") exec = ["/bin/sh", "-c", rest.join(" ")];
  else {
    problems.add(`${path}.healthcheck.test`, `a test starts with CMD, CMD-SHELL or NONE, not "${kind}"`);
    return undefined;
  }
  if (exec.length === 0) problems.add(`${path}.healthcheck.test`, "the test has no command");
  const grace = duration(problems, `${path}.healthcheck.start_period`, h.start_period);
  return {
    exec,
    interval: duration(problems, `${path}.healthcheck.interval`, h.interval ?? CHECK_DEFAULTS.interval),
    timeout: duration(problems, `${path}.healthcheck.timeout`, h.timeout ?? CHECK_DEFAULTS.timeout),
    failures: h.retries ?? CHECK_DEFAULTS.retries,
    ...(grace && grace !== "0ms" ? { grace } : {}),
  };
}

function mounts(s: ComposeService, path: string, file: ComposeFile, ctx: ComposeContext, problems: Problems) {
  const volumes: { name: string; target: string; readonly: boolean }[] = [];
  const binds: { source: string; target: string; readonly: boolean }[] = [];
  s.volumes?.forEach((v, i) => {
    const entry = typeof v === "string" ? volumeEntry(v) : { type: v.type, source: v.source ?? "", target: v.target, readonly: v.read_only ?? false };
    const at = `${path}.volumes[${i}]`;
    if (entry.type === "volume" && entry.source !== "") {
      if (!file.volumes || !(entry.source in file.volumes)) return problems.add(at, `volume ${entry.source} is not declared under the top-level volumes:`);
      volumes.push({ name: cubeName(entry.source), target: entry.target, readonly: entry.readonly });
    } else if (entry.type === "bind") {
      const source = entry.source.startsWith("~") ? posix.join(ctx.home, entry.source.slice(1)) : posix.resolve(ctx.dir, entry.source);
      binds.push({ source, target: entry.target, readonly: entry.readonly });
    } else problems.notes.push(`${at}: ${entry.type === "volume" || entry.type === "anonymous" ? "anonymous" : entry.type} volumes are not supported (name it under the top-level volumes:): left out`);
  });
  return { ...(volumes.length ? { volumes } : {}), ...(binds.length ? { mounts: binds } : {}) };
}

/**
 * A service's secrets onto Cube's own, by the top-level entry's `name:` (else its key) as it is: the
 * file appears where Compose puts it (`/run/secrets/` and the target, else the source), which is
 * Cube's default `file` when the names agree.
 */
function secrets(s: ComposeService, path: string, file: ComposeFile, problems: Problems) {
  return s.secrets?.flatMap((entry, i) => {
    const { source, target } = typeof entry === "string" ? { source: entry, target: undefined } : entry;
    const declared = file.secrets?.[source];
    if (!declared) {
      problems.add(`${path}.secrets[${i}]`, `secret ${source} is not declared under the top-level secrets:`);
      return [];
    }
    const name = declared.name ?? source;
    if (!SECRET_NAME.test(name)) {
      problems.add(declared.name === undefined ? `${path}.secrets[${i}]` : `secrets.${source}.name`, `"${name}": ${SECRET_NAME_RULE}`);
      return [];
    }
    const at = target?.startsWith("/") ? target : `/run/secrets/${target ?? source}`;
    return [{ name, ...(at !== secretFileDefault(name) ? { file: at } : {}) }];
  });
}

function dependencies(s: ComposeService, path: string, names: ReadonlyMap<string, string>, problems: Problems) {
  const d = s.depends_on;
  if (!d) return undefined;
  const entries = Array.isArray(d) ? d.map((name) => [name, "service_started"] as const) : Object.entries(d).map(([name, v]) => [name, v.condition] as const);
  return entries.flatMap(([name, condition]) => {
    const task = names.get(name);
    if (task === undefined) {
      problems.add(`${path}.depends_on`, `no service ${name} in this file`);
      return [];
    }
    return [{ task, condition: CONDITIONS[condition] }];
  });
}

function labels(s: ComposeService): Record<string, string> {
  return { ...pairs(s.deploy?.labels, {}), ...pairs(s.labels, {}) };
}

function task(key: string, s: ComposeService, job: string, file: ComposeFile, names: ReadonlyMap<string, string>, ctx: ComposeContext, problems: Problems): Record<string, unknown> {
  const path = `services.${key}`;
  const name = names.get(key) as string;
  if (s.image === undefined) problems.add(`${path}.image`, "Cube runs images and builds none: give the service an image (build it with docker build and push it with cube image push)");
  const published = ports(s, path, problems);
  const env = environment(s, path, ctx, problems);
  const count = s.deploy?.replicas ?? s.scale;
  // Each read once: a read that finds a problem records it.
  const [cmd, entrypoint, taskLabels] = [command(s.command), command(s.entrypoint), labels(s)];
  const [limits, placed, restartPolicy, strategy] = [resources(s, path, problems), placement(s, path, problems), restart(s, path, problems), update(s, path, problems)];
  const [check, mounted, secretRefs, dependsOn] = [health(s, path, problems), mounts(s, path, file, ctx, problems), secrets(s, path, file, problems), dependencies(s, path, names, problems)];
  const out: Record<string, unknown> = {
    name,
    image: s.image ?? "",
    ...(cmd ? { command: cmd } : {}),
    ...(entrypoint ? { entrypoint } : {}),
    ...(count !== undefined ? { count } : {}),
    ...(Object.keys(env).length ? { env } : {}),
    ...(Object.keys(taskLabels).length ? { labels: taskLabels } : {}),
    ...(limits ? { resources: limits } : {}),
    ...(published.length ? { ports: published } : {}),
    // The job's other services reach this one by its Compose name (see jobSearchDomain).
    ...(published.length ? { services: published.map((p) => ({ name: jobServiceName(job, name), port: p.name })) } : {}),
    ...placed,
    ...(restartPolicy ? { restart: restartPolicy } : {}),
    ...(strategy ? { update: strategy } : {}),
    ...(check ? { health: check } : {}),
    ...(s.cap_add ? { cap_add: s.cap_add } : {}),
    ...(s.privileged !== undefined ? { privileged: s.privileged } : {}),
    ...mounted,
    ...(secretRefs?.length ? { secrets: secretRefs } : {}),
    ...(dependsOn?.length ? { depends_on: dependsOn } : {}),
    ...s["x-cube"],
  };
  if (published.length && jobServiceName(job, name).length > 63) problems.add(path, `the service name ${jobServiceName(job, name)} (JOB-SERVICE) is longer than 63 characters: shorten the job or service name`);
  return out;
}

/**
 * A Compose file as one Cube job: one task group per service, named after it; the job is a service
 * job, or a system job when every service is `deploy.mode: global`. Pure: env files are read through
 * `ctx.envFile`. Throws a JobValidationError with the Compose file's paths; `notes` says what was
 * left out or changed.
 * @example composeToJob(parseCompose(doc).file, ctx).job.tasks // [{ name: "db", image: "postgres:16", … }]
 */
export function composeToJob(file: ComposeFile, ctx: ComposeContext): ComposeConversion {
  const problems = new Problems();
  const job = cubeName(file.name ?? ctx.name);
  if (job === "") problems.add(file.name !== undefined ? "name" : "", `"${file.name ?? ctx.name}" gives no job name: name the job with name: or --name`);
  const services = Object.entries(file.services).filter((e): e is [string, ComposeService] => e[1] !== null);
  if (services.length === 0) problems.add("services", "a compose file needs at least one service");
  const names = new Map(services.map(([key]) => [key, cubeName(key)]));
  const seen = new Map<string, string>();
  for (const [key, name] of names) {
    if (name === "") problems.add(`services.${key}`, `"${key}" gives no task name`);
    else if (seen.has(name)) problems.add(`services.${key}`, `${key} and ${seen.get(name)} both become task ${name}`);
    seen.set(name, key);
  }
  const global = services.filter(([, s]) => s.deploy?.mode === "global").map(([k]) => k);
  if (global.length > 0 && global.length < services.length) {
    problems.add("services", `Cube runs a compose file as one job of one type: ${global.join(", ")} ${global.length > 1 ? "are" : "is"} global (one per node) while the others are replicated; split the file`);
  }
  const tasks = services.map(([key, s]) => task(key, s, job, file, names, ctx, problems));
  for (const [key, secret] of Object.entries(file.secrets ?? {})) {
    if (secret.file !== undefined || secret.environment !== undefined) {
      problems.notes.push(`secrets.${key}: Cube takes secrets from its own store, not from ${secret.file !== undefined ? `file ${secret.file}` : `variable ${secret.environment}`}: store it with cube secret put ${secret.name ?? key}`);
    }
  }
  if (problems.issues.length > 0) throw new JobValidationError(problems.issues, "compose file");
  const type = global.length > 0 && global.length === services.length ? "system" : "service";
  return { job: { name: job, type, ...file["x-cube"], tasks }, notes: problems.notes };
}
