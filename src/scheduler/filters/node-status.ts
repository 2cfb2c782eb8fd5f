import type { Filter } from "../types.ts";

export const nodeStatus: Filter = ({ node }) => {
  if (node.status !== "ready") return `node is ${node.status}`;
  if (!node.eligible) return "node is ineligible";
  return null;
};

export const targetNodes: Filter = ({ node }, { request }) =>
  request.onlyNodes && !request.onlyNodes.includes(node.id) ? "not a target of this system job" : null;

export const datacenter: Filter = ({ node }, { request }) => {
  const wanted = request.job.datacenters;
  return wanted.length > 0 && !wanted.includes(node.datacenter) ? `datacenter not in [${wanted.join(", ")}]` : null;
};
