import { defineCommand } from "citty";
import { formatDuration } from "../model/duration.ts";
import type { JobSpec, TaskSpec } from "../model/job.ts";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { composeOf } from "./compose-export.ts";
import { formatAge, formatTable } from "./table.ts";

const jobArg = { job: { type: "positional", description: "job name", required: true } } as const;

/** A stored spec back in the job file's own notation (durations as 5s, health as http/tcp/exec), so it can be edited and resubmitted. */
export function toJobFile(spec: JobSpec): Record<string, unknown> {
  const task = (t: TaskSpec) => {
    const { restart, health, update, networkMode, capAdd, disconnect, shutdownDelayMs, dependsOn, secrets, ...rest } = t;
    const check = health && {
      ...(health.kind === "http" ? { http: health.path, port: health.port } : health.kind === "tcp" ? { tcp: health.port } : { exec: health.command }),
      interval: formatDuration(health.intervalMs),
      timeout: formatDuration(health.timeoutMs),
      failures: health.failures,
      ...(health.graceMs !== undefined ? { grace: formatDuration(health.graceMs) } : {}),
    };
    return {
      ...rest,
      restart: { attempts: restart.attempts, interval: formatDuration(restart.intervalMs), delay: formatDuration(restart.delayMs), mode: restart.mode, ...(restart.condition ? { condition: restart.condition } : {}) },
      ...(check ? { health: check } : {}),
      ...(update
        ? { update: { max_parallel: update.maxParallel, min_healthy_time: formatDuration(update.minHealthyTimeMs), healthy_deadline: formatDuration(update.healthyDeadlineMs), auto_revert: update.autoRevert } }
        : {}),
      ...(networkMode !== undefined ? { network_mode: networkMode } : {}),
      ...(capAdd !== undefined ? { cap_add: capAdd } : {}),
      ...(disconnect ? { disconnect: { stop_after: formatDuration(disconnect.stopAfterMs) } } : {}),
      ...(shutdownDelayMs !== undefined ? { shutdown_delay: formatDuration(shutdownDelayMs) } : {}),
      ...(dependsOn ? { depends_on: dependsOn } : {}),
      // The version a secret is pinned to is the manager's to set (from the secret's current one), never a job file's.
      ...(secrets ? { secrets: secrets.map(({ version: _version, ...ref }) => ref) } : {}),
    };
  };
  // A periodic run's origin is the manager's to set, never a job file's.
  const { periodicRun: _run, ...file } = spec;
  return { ...file, tasks: spec.tasks.map(task) };
}

export default defineCommand({
  meta: { name: "job", description: "A job's versions: history, revert, inspect" },
  subCommands: {
    history: defineCommand({
      meta: { name: "history", description: "List the job's versions, newest first" },
      args: { ...jobArg, ...clientArgs },
      async run({ args }) {
        const versions = await clientFrom(args).jobVersions(args.job);
        if (args.json) return printJson(versions);
        const rows = versions.map((v) => [String(v.version), formatAge(v.createdAt), v.spec.tasks.map((t) => `${t.name}: ${t.image} x${t.count}`).join("; "), v.reason ?? "-"]);
        process.stdout.write(`${formatTable(["version", "age", "tasks", "why"], rows)}\n`);
      },
    }),
    revert: defineCommand({
      meta: { name: "revert", description: "Run an earlier version again (as a new version)" },
      args: { ...jobArg, version: { type: "positional", description: "version to go back to", required: true }, ...clientArgs },
      async run({ args }) {
        const version = Number(args.version);
        if (!Number.isInteger(version) || version < 1) throw new Error(`version must be a whole number, not "${args.version}"`);
        const result = await clientFrom(args).revertJob(args.job, version);
        if (args.json) return printJson(result);
        process.stdout.write(`job ${result.job.name} reverted to version ${version}'s spec as version ${result.job.version}\n`);
      },
    }),
    inspect: defineCommand({
      meta: { name: "inspect", description: "Print the job's stored spec as YAML (or JSON with --json), as a job file or as a compose file" },
      args: {
        ...jobArg,
        version: { type: "string", description: "an earlier version (default: current)" },
        format: { type: "string", description: "job (a job file) or compose (a compose file cube run accepts)", default: "job" },
        ...clientArgs,
      },
      async run({ args }) {
        const client = clientFrom(args);
        const spec = args.version === undefined
          ? (await client.getJob(args.job)).spec
          : (await client.jobVersions(args.job)).find((v) => String(v.version) === args.version)?.spec;
        if (!spec) throw new Error(`job ${args.job} has no version ${args.version}`);
        if (args.format !== "job" && args.format !== "compose") throw new Error(`--format is job or compose, not "${args.format}"`);
        const file = args.format === "compose" ? composeOf(spec, toJobFile(spec)) : toJobFile(spec);
        if (args.json) return printJson(file);
        process.stdout.write(Bun.YAML.stringify(file, null, 2));
      },
    }),
  },
});
