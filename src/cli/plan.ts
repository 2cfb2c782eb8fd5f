import { defineCommand } from "citty";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { composeArgs, printWarnings, readJobFileArg } from "./job-file-arg.ts";
import { formatPlan } from "./plan-report.ts";

export default defineCommand({
  meta: { name: "plan", description: "Show where a job file's tasks would go and why (every node's score, or why it was rejected); changes nothing. Exits 1 if a task cannot be placed" },
  args: {
    file: { type: "positional", description: "job file or compose file, or - for standard input", required: true },
    ...composeArgs,
    ...clientArgs,
  },
  async run({ args }) {
    const { text, format, warnings } = await readJobFileArg(args.file, { name: args.name, strict: args.strict });
    printWarnings(warnings);
    const plan = await clientFrom(args).plan(text, format);
    if (args.json) printJson(plan);
    else process.stdout.write(`${formatPlan(plan)}\n`);
    if (plan.groups.some((g) => g.placed < g.count)) process.exitCode = 1;
  },
});
