import { defineCommand } from "citty";
import type { JobSummary, JobView, JobVolume, PeriodicStatus } from "../model/api-types.ts";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { formatTable } from "./table.ts";
import { taskTable } from "./task-table.ts";

function counts(summary: JobSummary): string {
  const entries = Object.entries(summary.byState);
  return entries.length === 0 ? "-" : entries.map(([state, n]) => `${n} ${state}`).join(", ");
}

/** A periodic job's schedule, its next time and its last runs (each a job: `cube status RUN` shows its tasks). */
function periodicReport(periodic: PeriodicStatus): string {
  const next = periodic.next === null ? "none (the job is stopped)" : new Date(periodic.next).toISOString();
  const head = `schedule "${periodic.schedule}" (${periodic.timezone}), overlap ${periodic.overlap}; next run ${next}\n\n`;
  if (periodic.runs.length === 0) return `${head}no runs yet`;
  const rows = periodic.runs.map((r) => [r.job, new Date(r.at).toISOString(), r.status, counts(r.summary)]);
  return `${head}${formatTable(["run", "due", "status", "tasks"], rows)}`;
}

/** Where the job's volumes are, and where a moved task left its data behind. */
export function volumeLines(volumes: readonly JobVolume[]): string[] {
  return volumes.map((v) => `volume ${v.name} on node ${v.node}${v.left.length > 0 ? `; its data on ${v.left.map((n) => `node ${n}`).join(", ")} did not move there` : ""}`);
}

export default defineCommand({
  meta: { name: "status", description: "List jobs, or show one job: its tasks, or a periodic job's schedule and last runs" },
  args: {
    job: { type: "positional", description: "job name", required: false },
    ...clientArgs,
  },
  async run({ args }) {
    const client = clientFrom(args);
    if (!args.job) {
      const jobs = await client.listJobs();
      if (args.json) return printJson(jobs);
      if (jobs.length === 0) return void process.stdout.write("no jobs\n");
      const kind = (j: JobView) => (j.spec.schedule !== undefined ? "periodic" : j.type);
      const rows = jobs.map((j) => [j.name, kind(j), String(j.version), j.status, `${j.summary.byState.running ?? 0}/${j.summary.desired}`, counts(j.summary)]);
      return void process.stdout.write(`${formatTable(["name", "type", "version", "status", "running", "tasks"], rows)}\n`);
    }
    const job = await client.getJob(args.job);
    if (args.json) return printJson(job);
    if (job.periodic) {
      process.stdout.write(`job ${job.name} (periodic batch), version ${job.version}, ${job.status}\n${periodicReport(job.periodic)}\n`);
      return;
    }
    const origin = job.spec.periodicRun ? ` (run of ${job.spec.periodicRun.parent} due ${new Date(job.spec.periodicRun.at).toISOString()})` : "";
    process.stdout.write(`job ${job.name} (${job.type})${origin}, version ${job.version}, ${job.status}: ${job.summary.byState.running ?? 0}/${job.summary.desired} running\n\n`);
    const shown = job.tasks.filter((t) => t.jobVersion === job.version || !["completed", "failed", "stopped"].includes(t.state));
    process.stdout.write(`${shown.length === 0 ? "no tasks" : taskTable(shown)}\n`);
    for (const line of volumeLines(job.volumes ?? [])) process.stdout.write(`${line}\n`);
  },
});
