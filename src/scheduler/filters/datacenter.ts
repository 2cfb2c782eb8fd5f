import type { Filter } from "../plugin.ts";

/** An empty list means any datacenter. */
export const datacenter: Filter = {
  passes: ({ node }, { request }) => {
    const wanted = request.job.datacenters;
    return wanted.length === 0 || wanted.includes(node.datacenter);
  },
  reason: (_, { request }) => `datacenter not in [${request.job.datacenters.join(", ")}]`,
};
