import type { NodeUsage, PlacementContext, ScorePlugin } from "../types.ts";

/** Average of cpu and memory fraction allocated once this task is added, 0–100. */
function utilizationAfter({ node, allocated }: NodeUsage, { request }: PlacementContext): number {
  const need = request.group.resources;
  const cpu = node.capacity.cpu > 0 ? (allocated.cpu + need.cpu) / node.capacity.cpu : 1;
  const mem = node.capacity.memory > 0 ? (allocated.memory + need.memory) / node.capacity.memory : 1;
  return Math.min(100, ((Math.min(cpu, 1) + Math.min(mem, 1)) / 2) * 100);
}

/** Fullest node first: fewer, fuller machines (Nomad's default). */
export const binpack: ScorePlugin = { name: "binpack", weight: 1, score: utilizationAfter };

/** Emptiest node first. */
export const spread: ScorePlugin = { name: "spread", weight: 1, score: (usage, ctx) => 100 - utilizationAfter(usage, ctx) };

/**
 * Replicas of one task group avoid sharing a node when another fits as well, so a 3-count service
 * on three empty nodes lands on three nodes (Nomad's job anti-affinity).
 */
export const jobAntiAffinity: ScorePlugin = {
  name: "job-anti-affinity",
  weight: 1,
  score: ({ groups }, { groupKey, desiredCount }) => 100 * Math.max(0, 1 - (groups.get(groupKey) ?? 0) / Math.max(1, desiredCount)),
};
