import { defineCommand } from "citty";
import type { ClusterEvent } from "../model/api-types.ts";
import { clientArgs, clientFrom } from "./client-args.ts";

export default defineCommand({
  meta: { name: "events", description: "Print cluster events as they happen (Ctrl-C to stop); --history first prints the ones the manager kept" },
  args: {
    job: { type: "string", description: "only this job's events" },
    node: { type: "string", description: "only this node's events (node id)" },
    task: { type: "string", description: "only this task's events (name JOB.GROUP.INDEX, id or id prefix)" },
    type: { type: "string", description: "job | task | node" },
    history: { type: "boolean", description: "print the recent events the manager kept (up to 10,000) before the new ones", default: false },
    ...clientArgs,
  },
  async run({ args }) {
    const client = clientFrom(args);
    const filter = { job: args.job, node: args.node, task: args.task, type: args.type };
    const print = (event: ClusterEvent) =>
      process.stdout.write(args.json ? `${JSON.stringify(event)}\n` : `${new Date(event.at).toISOString()}  ${event.type.padEnd(4)}  ${event.message}\n`);
    // Listening before the history is read, so nothing that happens in between is missed; what both bring is printed once.
    const stream = await client.events(filter);
    let printed = 0;
    if (args.history) {
      for await (const page of client.pages<ClusterEvent>("/v1/events/history", "events", filter)) {
        for (const event of page) print(event);
        printed = page.at(-1)?.index ?? printed;
      }
    }
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      buffered += decoder.decode(next.value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("data:")) continue;
        const event = JSON.parse(line.slice(5)) as ClusterEvent;
        if (event.index > printed) print(event);
      }
    }
  },
});
