import type { ScorePlugin } from "../plugin.ts";

/**
 * Replicas of one group avoid sharing a node when another fits, so a service survives losing one
 * (Nomad's job anti-affinity). Weight 2 against binpack's 1: on otherwise equal nodes, a second
 * replica gains at most 50 binpack points by sharing (both must fit) and loses 2 × 100/count here,
 * so groups of up to 3 always spread and larger ones still lean strongly that way. Different jobs all
 * score 100 here, so binpack alone decides how they pack.
 */
export const jobAntiAffinity: ScorePlugin = {
  name: "job-anti-affinity",
  weight: 2,
  score: ({ groups }, { groupKey, desiredCount }) => 100 * Math.max(0, 1 - (groups.get(groupKey) ?? 0) / Math.max(1, desiredCount)),
};
