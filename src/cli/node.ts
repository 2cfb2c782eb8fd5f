import { defineCommand } from "citty";
import type { ApiClient } from "../client/api-client.ts";
import type { NodeView } from "../model/api-types.ts";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";

/** One `cube node <verb> NODE` command: call the API, print the node's new status. */
function nodeCommand(name: string, description: string, action: (client: ApiClient, node: string) => Promise<NodeView>) {
  return defineCommand({
    meta: { name, description },
    args: { node: { type: "positional", description: "node name or id", required: true }, ...clientArgs },
    async run({ args }) {
      const node = await action(clientFrom(args), args.node);
      if (args.json) return printJson(node);
      process.stdout.write(`node ${node.name}: ${node.status}, ${node.eligible ? "eligible" : "ineligible"}\n`);
    },
  });
}

export default defineCommand({
  meta: { name: "node", description: "Drain a node, or make it (in)eligible for new tasks" },
  subCommands: {
    drain: nodeCommand("drain", "Move the node's tasks elsewhere, then keep new ones off it", (c, n) => c.drainNode(n)),
    eligible: nodeCommand("eligible", "Let the scheduler place tasks on the node again", (c, n) => c.setNodeEligibility(n, true)),
    ineligible: nodeCommand("ineligible", "Keep new tasks off the node; running ones stay", (c, n) => c.setNodeEligibility(n, false)),
  },
});
