import { defineCommand } from "citty";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";

export default defineCommand({
  meta: { name: "stop", description: "Stop a job: its tasks stop and their containers are removed" },
  args: {
    job: { type: "positional", description: "job name", required: true },
    purge: { type: "boolean", description: "also forget the job and its history", default: false },
    ...clientArgs,
  },
  async run({ args }) {
    const job = await clientFrom(args).stopJob(args.job, args.purge);
    if (args.json) return printJson(job);
    process.stdout.write(`job ${job.name} stopped${args.purge ? " and purged" : ""}\n`);
  },
});
