import { defineCommand } from "citty";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";

export default defineCommand({
  meta: { name: "run", description: "Submit a job file (YAML or JSON); submitting a changed file updates the job" },
  args: {
    file: { type: "positional", description: "job file, or - for standard input", required: true },
    ...clientArgs,
  },
  async run({ args }) {
    const text = args.file === "-" ? await Bun.stdin.text() : await readJobFile(args.file);
    const format = args.file.endsWith(".json") || /^\s*\{/.test(text) ? "json" : "yaml";
    const result = await clientFrom(args).submitJob(text, format);
    if (args.json) return printJson(result);
    const { job } = result;
    const what = result.created ? "created" : result.changed ? `updated to version ${job.version}` : `unchanged (version ${job.version})`;
    process.stdout.write(`job ${job.name} ${what}: ${job.summary.desired} task(s) wanted; see \`cube status ${job.name}\`\n`);
  },
});

async function readJobFile(path: string): Promise<string> {
  const file = Bun.file(path);
  if (!(await file.exists())) throw new Error(`job file ${path} does not exist`);
  return file.text();
}
