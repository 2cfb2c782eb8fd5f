import { defineCommand } from "citty";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { taskTable } from "./task-table.ts";

export default defineCommand({
  meta: { name: "tasks", description: "List tasks, or show one task with its event history" },
  args: {
    id: { type: "positional", description: "task name (JOB.GROUP.INDEX), id or unique id prefix", required: false },
    job: { type: "string", description: "only this job's tasks" },
    node: { type: "string", description: "only tasks on this node (id or name)" },
    state: { type: "string", description: "only tasks in this state" },
    ...clientArgs,
  },
  async run({ args }) {
    const client = clientFrom(args);
    if (args.id) {
      const task = await client.getTask(args.id);
      if (args.json) return printJson(task);
      process.stdout.write(`${taskTable([task])}\n\nevents:\n`);
      for (const e of task.events) process.stdout.write(`  ${new Date(e.at).toISOString()}  ${e.state.padEnd(9)}  ${e.message}\n`);
      return;
    }
    const tasks = await client.listTasks({ job: args.job, node: args.node, state: args.state });
    if (args.json) return printJson(tasks);
    process.stdout.write(`${tasks.length === 0 ? "no tasks" : taskTable(tasks)}\n`);
  },
});
