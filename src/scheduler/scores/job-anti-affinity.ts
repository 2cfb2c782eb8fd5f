import type { PlacementContext, ScorePlugin } from "../plugin.ts";

function withReplicas(replicas: number, { desiredCount }: PlacementContext): number {
  return 100 * Math.max(0, 1 - replicas / Math.max(1, desiredCount));
}

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
  score: ({ groups }, ctx) => withReplicas(groups.get(ctx.groupKey) ?? 0, ctx),
  byClass: true,
  upper: (range, ctx) => withReplicas(range.minHolds, ctx),
};
