import type { Filter } from "../plugin.ts";

/** Only a ready, eligible node takes new tasks; a draining or ineligible one keeps what it has. */
export const nodeStatus: Filter = ({ node }) => {
  if (node.status !== "ready") return `node is ${node.status}`;
  if (!node.eligible) return "node is ineligible";
  return null;
};
