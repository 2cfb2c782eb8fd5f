import { defineCommand } from "citty";
import { parseDuration } from "../model/duration.ts";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { composeArgs, printWarnings, readJobFileArg } from "./job-file-arg.ts";
import { pendingReasons } from "./pending-reasons.ts";
import { secretEnvWarnings } from "./secret-env-warnings.ts";
import { watchDeployment } from "./watch-deployment.ts";

export default defineCommand({
  meta: { name: "run", description: "Submit a job file (YAML or JSON) or a compose file; submitting a changed file updates the job" },
  args: {
    file: { type: "positional", description: "job file or compose file, or - for standard input", required: true },
    ...composeArgs,
    detach: { type: "boolean", alias: "d", description: "return once submitted, without watching", default: false },
    timeout: { type: "string", description: "stop watching after this long", default: "5m" },
    ...clientArgs,
  },
  async run({ args }) {
    const { text, format, warnings } = await readJobFileArg(args.file, { name: args.name, strict: args.strict });
    printWarnings(warnings);
    const timeoutMs = parseDuration(args.timeout);
    if (timeoutMs === undefined) throw new Error(`--timeout must be a duration like 90s or 5m, not "${args.timeout}"`);
    const client = clientFrom(args);
    const result = await client.submitJob(text, format);
    for (const warning of secretEnvWarnings(result.job.spec)) process.stderr.write(`${warning}\n`);
    if (args.json) return printJson(result);
    const { job } = result;
    const what = result.created ? "created" : result.changed ? `updated to version ${job.version}` : `unchanged (version ${job.version})`;
    process.stdout.write(`job ${job.name} ${what}: ${job.summary.desired} task(s) wanted\n`);
    // The manager places before it answers, so one look says which tasks no node can take, and why.
    for (const line of pendingReasons(await client.getJob(job.name), job.version)) process.stdout.write(`${line}\n`);
    if (args.detach) return;
    if (!(await watchDeployment(client, job.name, job.version, timeoutMs))) process.exitCode = 1;
  },
});
