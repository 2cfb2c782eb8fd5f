import type { Filter } from "../plugin.ts";

/** Only a ready, eligible node takes new tasks; a draining or ineligible one keeps what it has. */
export const nodeStatus: Filter = {
  passes: ({ node }) => node.status === "ready" && node.eligible,
  reason: ({ node }) => (node.status !== "ready" ? `node is ${node.status}` : "node is ineligible"),
};
