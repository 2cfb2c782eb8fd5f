import { defineCommand } from "citty";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";

export default defineCommand({
  meta: { name: "scale", description: "Change how many replicas of one task a job runs (running ones are kept)" },
  args: {
    job: { type: "positional", description: "job name", required: true },
    task: { type: "positional", description: "task name in the job", required: true },
    count: { type: "positional", description: "new count", required: true },
    ...clientArgs,
  },
  async run({ args }) {
    const count = Number(args.count);
    if (!Number.isInteger(count) || count < 0) throw new Error(`count must be a whole number, not "${args.count}"`);
    const result = await clientFrom(args).scaleJob(args.job, args.task, count);
    if (args.json) return printJson(result);
    process.stdout.write(`job ${result.job.name} ${args.task} scaled to ${count} (version ${result.job.version})\n`);
  },
});
