import { defineCommand } from "citty";
import { clientArgs, clientFrom } from "./client-args.ts";

export default defineCommand({
  meta: { name: "logs", description: "Print a task's container output (proxied from its worker)" },
  args: {
    task: { type: "positional", description: "task name (JOB.GROUP.INDEX), id or unique id prefix", required: true },
    follow: { type: "boolean", alias: "f", description: "keep printing new output", default: false },
    tail: { type: "string", description: "only the last N lines" },
    stderr: { type: "boolean", description: "only standard error", default: false },
    ...clientArgs,
  },
  async run({ args }) {
    const tail = args.tail === undefined ? undefined : Number(args.tail);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new Error(`--tail must be a whole number, not "${args.tail}"`);
    const stream = await clientFrom(args).logs(args.task, { follow: args.follow, tail, stderr: args.stderr });
    const reader = stream.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) process.stdout.write(next.value);
  },
});
