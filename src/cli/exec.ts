import { defineCommand } from "citty";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";

export default defineCommand({
  meta: { name: "exec", description: "Run a command in a task's container: cube exec TASK -- CMD [ARGS...]" },
  args: {
    task: { type: "positional", description: "task name (JOB.GROUP.INDEX), id or unique id prefix", required: true },
    timeout: { type: "string", description: "give up after this many seconds", default: "60" },
    ...clientArgs,
  },
  async run({ args, rawArgs }) {
    const dashes = rawArgs.indexOf("--");
    const command = dashes === -1 ? [] : rawArgs.slice(dashes + 1);
    if (command.length === 0) throw new Error("give the command after --, e.g. cube exec TASK -- ls /");
    const seconds = Number(args.timeout);
    if (!(seconds > 0)) throw new Error(`--timeout must be a number of seconds, not "${args.timeout}"`);
    const result = await clientFrom(args).exec(args.task, command, Math.round(seconds * 1000));
    if (args.json) return printJson(result);
    process.stdout.write(result.output);
    // The command's own exit code, like `docker exec`.
    process.exitCode = result.exitCode;
  },
});
