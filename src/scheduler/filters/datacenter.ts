import type { Filter } from "../plugin.ts";

/** An empty list means any datacenter. */
export const datacenter: Filter = ({ node }, { request }) => {
  const wanted = request.job.datacenters;
  return wanted.length > 0 && !wanted.includes(node.datacenter) ? `datacenter not in [${wanted.join(", ")}]` : null;
};
