import { SCORERS } from "./algorithms.ts";
import { ClusterIndex } from "./cluster-index.ts";
import { candidateLimit, NodeScan } from "./node-scan.ts";
import { placementContext } from "./placement-context.ts";
import type { NodeUsage } from "./plugin.ts";
import { scoreNodes } from "./score-nodes.ts";
import { attributeSpread } from "./scores/attribute-spread.ts";
import { seededRandom } from "./seeded-random.ts";
import { narrowTallies } from "./spread-tally.ts";
import type { ClusterSnapshot, PlacementFailure, PlacementRequest, PlacementResult, Rejection } from "./types.ts";

function failureOf(index: number, rejected: Rejection[]): PlacementFailure {
  const reasons: Record<string, number> = {};
  for (const r of rejected) reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
  return { index, reasons, rejected };
}

/**
 * Places replicas of one task group, one after another, each seeing the ones before: filter, score
 * with the algorithm's plugins (and one per spread), pick the best; ties go to the first in a node
 * order shuffled from the seed. Each replica scans on from where the last stopped and scores the
 * first `candidateLimit(nodes)` feasible nodes; with `exhaustive` it scores every node and records
 * why each other one was rejected, and a replica that fits nowhere is always explained from every
 * node. Pure: no I/O, no clock, no global randomness, and neither the request nor the cluster is
 * changed (pass a ClusterIndex to place many groups against one cluster without re-indexing it).
 * @example placeTasks({ job, group, indexes: [0, 1, 2], algorithm: "binpack", seed: "eval-1" }, { nodes, tasks: [] })
 */
export function placeTasks(request: PlacementRequest, cluster: ClusterSnapshot | ClusterIndex): PlacementResult {
  const index = cluster instanceof ClusterIndex ? cluster : ClusterIndex.of(cluster);
  const ctx = placementContext(request, index);
  const plugins = [...SCORERS[request.algorithm], ...ctx.spreads.map(attributeSpread)];
  const scan = new NodeScan(index, ctx, seededRandom(request.seed));
  const exhaustive = request.exhaustive === true;
  const limit = exhaustive ? Number.POSITIVE_INFINITY : candidateLimit(index.size);
  const result: PlacementResult = { placements: [], failures: [] };
  const candidates: NodeUsage[] = [];
  // A failure changes nothing, so every later replica would fail the same way: reuse it.
  let blocked: PlacementFailure | null = null;

  for (const slot of request.indexes) {
    if (blocked) {
      result.failures.push({ index: slot, reasons: { ...blocked.reasons }, rejected: blocked.rejected });
      continue;
    }
    candidates.length = 0;
    const rejected: Rejection[] | null = exhaustive ? [] : null;
    const wentRound = scan.collect(candidates, limit, rejected);
    if (wentRound) narrowTallies(ctx.spreads, candidates);
    if (candidates.length === 0) {
      // No node passed the filters; a limited scan did not record why, so ask every node.
      const why = rejected ?? [];
      if (!rejected) scan.collect(candidates, limit, why);
      blocked = failureOf(slot, why);
      result.failures.push(blocked);
      continue;
    }
    const { scores, best } = scoreNodes(candidates, ctx, plugins);
    const chosen = candidates[best] as NodeUsage;
    scan.place(chosen);
    if (request.group.volumes?.length && request.job.type !== "system") ctx.volumeNode ??= chosen.node.id;
    result.placements.push({ index: slot, nodeId: chosen.node.id, reservedPorts: { ...ctx.reservedPorts }, score: scores[best] as (typeof scores)[number], candidates: scores, ...(rejected ? { rejected } : {}) });
  }
  return result;
}
