import { FILTERS, SCORERS } from "./algorithms.ts";
import { addTask, usageOf } from "./node-usage.ts";
import { placementContext } from "./placement-context.ts";
import type { NodeUsage, PlacementContext } from "./plugin.ts";
import { scoreNodes } from "./score-nodes.ts";
import { seededRandom, seededShuffle } from "./seeded-random.ts";
import type { ClusterSnapshot, PlacementFailure, PlacementRequest, PlacementResult } from "./types.ts";

function rejection(usage: NodeUsage, ctx: PlacementContext): string | null {
  for (const filter of FILTERS) {
    const reason = filter(usage, ctx);
    if (reason !== null) return reason;
  }
  return null;
}

/**
 * Places replicas of one task group, one after another, each seeing the ones before: filter (with a
 * reason for every rejected node), score with the algorithm's plugins, pick the best; ties go to the
 * first in a node order shuffled from the seed. Pure: no I/O, no clock, no global randomness, and
 * the input is never mutated.
 * @example placeTasks({ job, group, indexes: [0, 1, 2], algorithm: "binpack", seed: "eval-1" }, { nodes, tasks: [] })
 */
export function placeTasks(request: PlacementRequest, cluster: ClusterSnapshot): PlacementResult {
  const nodes = seededShuffle(usageOf(cluster), seededRandom(request.seed));
  const ctx = placementContext(request);
  const plugins = SCORERS[request.algorithm];
  const result: PlacementResult = { placements: [], failures: [] };
  // A failure changes nothing, so every later replica would fail the same way: reuse it.
  let blocked: PlacementFailure | null = null;

  for (const index of request.indexes) {
    if (blocked) {
      result.failures.push({ index, reasons: { ...blocked.reasons }, rejected: [...blocked.rejected] });
      continue;
    }
    const candidates: NodeUsage[] = [];
    const failure: PlacementFailure = { index, reasons: {}, rejected: [] };
    for (const usage of nodes) {
      const reason = rejection(usage, ctx);
      if (reason === null) {
        candidates.push(usage);
        continue;
      }
      failure.reasons[reason] = (failure.reasons[reason] ?? 0) + 1;
      failure.rejected.push({ nodeId: usage.node.id, nodeName: usage.node.name, reason });
    }
    const { scores, best } = scoreNodes(candidates, ctx, plugins);
    const chosen = candidates[best];
    const score = scores[best];
    if (!chosen || !score) {
      // No node passed the filters.
      blocked = failure;
      result.failures.push(failure);
      continue;
    }
    addTask(chosen, ctx.groupKey, request.group.resources, Object.values(ctx.reservedPorts));
    result.placements.push({ index, nodeId: chosen.node.id, reservedPorts: { ...ctx.reservedPorts }, score, candidates: scores });
  }
  return result;
}
