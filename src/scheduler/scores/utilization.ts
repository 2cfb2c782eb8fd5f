import type { NodeUsage, PlacementContext, ScorePlugin } from "../plugin.ts";
import { load } from "./load.ts";

/** Far above the rounding of a score (0–100), far below any difference between nodes' scores that matters. */
const ROUNDING = 1e-9;

/** Average of the cpu and memory fractions allocated once this task is added, 0–100. */
function utilizationAfter({ node, allocated }: NodeUsage, { request }: PlacementContext): number {
  const need = request.group.resources;
  return ((load(allocated.cpu + need.cpu, node.capacity.cpu) + load(allocated.memory + need.memory, node.capacity.memory)) / 2) * 100;
}

/**
 * Fullest node that still fits first: fewer, fuller machines (Nomad's default). A fraction after
 * placing is at most the fraction before plus need × 1/capacity, whence the bound for a search.
 */
export const binpack: ScorePlugin = {
  name: "binpack",
  weight: 1,
  score: utilizationAfter,
  byClass: true,
  upper: (range, { request: { group } }) =>
    ((range.maxFill + group.resources.cpu * range.maxInverseCpu + group.resources.memory * range.maxInverseMemory) / 2) * 100 + ROUNDING,
};

/** Least allocated node first. */
export const spread: ScorePlugin = { name: "spread", weight: 1, score: (usage, ctx) => 100 - utilizationAfter(usage, ctx), byClass: true };
