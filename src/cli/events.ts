import { defineCommand } from "citty";
import { clientArgs, clientFrom } from "./client-args.ts";

export default defineCommand({
  meta: { name: "events", description: "Print cluster events as they happen (Ctrl-C to stop)" },
  args: {
    job: { type: "string", description: "only this job's events" },
    node: { type: "string", description: "only this node's events (node id)" },
    task: { type: "string", description: "only this task's events (id or prefix)" },
    type: { type: "string", description: "job | task | node" },
    ...clientArgs,
  },
  async run({ args }) {
    const stream = await clientFrom(args).events({ job: args.job, node: args.node, task: args.task, type: args.type });
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      buffered += decoder.decode(next.value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("data:")) continue;
        const event = JSON.parse(line.slice(5)) as { at: number; type: string; message: string };
        process.stdout.write(args.json ? `${line.slice(5).trim()}\n` : `${new Date(event.at).toISOString()}  ${event.type.padEnd(4)}  ${event.message}\n`);
      }
    }
  },
});
