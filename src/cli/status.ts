import { defineCommand } from "citty";
import type { JobView } from "../model/api-types.ts";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { formatTable } from "./table.ts";
import { taskTable } from "./task-table.ts";

function counts(job: JobView): string {
  const entries = Object.entries(job.summary.byState);
  return entries.length === 0 ? "-" : entries.map(([state, n]) => `${n} ${state}`).join(", ");
}

export default defineCommand({
  meta: { name: "status", description: "List jobs, or show one job and its tasks" },
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
      const rows = jobs.map((j) => [j.name, j.type, String(j.version), j.status, `${j.summary.byState.running ?? 0}/${j.summary.desired}`, counts(j)]);
      return void process.stdout.write(`${formatTable(["name", "type", "version", "status", "running", "tasks"], rows)}\n`);
    }
    const job = await client.getJob(args.job);
    if (args.json) return printJson(job);
    process.stdout.write(`job ${job.name} (${job.type}), version ${job.version}, ${job.status}: ${job.summary.byState.running ?? 0}/${job.summary.desired} running\n\n`);
    const shown = job.tasks.filter((t) => t.jobVersion === job.version || !["completed", "failed", "stopped"].includes(t.state));
    process.stdout.write(`${shown.length === 0 ? "no tasks" : taskTable(shown)}\n`);
  },
});
