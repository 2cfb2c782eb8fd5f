import { defineCommand } from "citty";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";

const taskArg = { task: { type: "positional", description: "task name (JOB.GROUP.INDEX), id or unique id prefix", required: true } } as const;

export default defineCommand({
  meta: { name: "task", description: "Restart a task in place, or stop it (a service replaces it)" },
  subCommands: {
    restart: defineCommand({
      meta: { name: "restart", description: "Restart the task's container on its node (not counted against its restart policy)" },
      args: { ...taskArg, ...clientArgs },
      async run({ args }) {
        const result = await clientFrom(args).restartTask(args.task);
        if (args.json) return printJson(result);
        process.stdout.write(`task ${args.task} restarting\n`);
      },
    }),
    stop: defineCommand({
      meta: { name: "stop", description: "Stop the task; a service or system job places a replacement" },
      args: { ...taskArg, ...clientArgs },
      async run({ args }) {
        const task = await clientFrom(args).stopTask(args.task);
        if (args.json) return printJson(task);
        process.stdout.write(`task ${task.name} stopping\n`);
      },
    }),
  },
});
