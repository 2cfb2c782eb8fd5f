import type { ScorePlugin } from "../plugin.ts";

/**
 * The seed's round-robin made stateless: the node holding the fewest tasks of this group goes next,
 * and the seeded node order breaks ties, so replicas take turns over the nodes.
 */
export const roundRobin: ScorePlugin = {
  name: "round-robin",
  weight: 1,
  score: ({ groups }, { groupKey }) => -(groups.get(groupKey) ?? 0),
  normalized: true,
  byClass: true,
};
