import type { Node } from "../../model/node.ts";
import type { Filter } from "../plugin.ts";

/** Only a ready, eligible node takes new tasks; a draining or ineligible one keeps what it has. */
export function schedulable(node: Node): boolean {
  return node.status === "ready" && node.eligible;
}

export const nodeStatus: Filter = {
  passes: ({ node }) => schedulable(node),
  reason: ({ node }) => (node.status !== "ready" ? `node is ${node.status}` : "node is ineligible"),
};
