import type { NodeUsage, PlacementContext, ScorePlugin } from "../plugin.ts";
import { load } from "./load.ts";

/** Average of the cpu and memory fractions allocated once this task is added, 0–100. */
function utilizationAfter({ node, allocated }: NodeUsage, { request }: PlacementContext): number {
  const need = request.group.resources;
  return ((load(allocated.cpu + need.cpu, node.capacity.cpu) + load(allocated.memory + need.memory, node.capacity.memory)) / 2) * 100;
}

/** Fullest node that still fits first: fewer, fuller machines (Nomad's default). */
export const binpack: ScorePlugin = { name: "binpack", weight: 1, score: utilizationAfter };

/** Least allocated node first. */
export const spread: ScorePlugin = { name: "spread", weight: 1, score: (usage, ctx) => 100 - utilizationAfter(usage, ctx) };
