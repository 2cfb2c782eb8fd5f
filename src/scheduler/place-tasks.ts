import { SCORERS, SEARCHED } from "./algorithms.ts";
import { BestFit, type Picked } from "./best-fit.ts";
import { CallUsages } from "./call-usages.ts";
import { ClusterIndex } from "./cluster-index.ts";
import { candidateLimit, NodeScan } from "./node-scan.ts";
import { placementContext } from "./placement-context.ts";
import type { NodeUsage, PlacementContext, ScorePlugin } from "./plugin.ts";
import { scoreNodes } from "./score-nodes.ts";
import { attributeSpread } from "./scores/attribute-spread.ts";
import { seededRandom } from "./seeded-random.ts";
import { SpreadNarrowing } from "./spread-narrowing.ts";
import { narrowTallies } from "./spread-tally.ts";
import { ringPoint } from "./tie-ring.ts";
import type { ClusterSnapshot, PlacementFailure, PlacementRequest, PlacementResult, Rejection } from "./types.ts";

function failureOf(index: number, rejected: Rejection[]): PlacementFailure {
  const reasons: Record<string, number> = {};
  for (const r of rejected) reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
  return { index, reasons, rejected };
}

/** How a call picks each replica's node: by a scan of (a sample of) the nodes, or by a search. */
interface Picker {
  /** The best node for the next replica, or null when no node is feasible. */
  pick(point: number | null, rejected: Rejection[] | null): Picked | null;
  place(usage: NodeUsage): void;
  /** Called once the call is done, whatever happened. */
  finish(): void;
}

/** Filters and scores the nodes a scan collects: every node in exhaustive mode, a bounded sample otherwise. */
function scanPicker(scan: NodeScan, usages: CallUsages, ctx: PlacementContext, plugins: readonly ScorePlugin[], limit: number): Picker {
  const candidates: NodeUsage[] = [];
  return {
    pick(point, rejected) {
      candidates.length = 0;
      if (scan.collect(candidates, limit, rejected)) narrowTallies(ctx.spreads, candidates);
      if (candidates.length === 0) return null;
      const { scores, best } = scoreNodes(candidates, ctx, plugins, point);
      return { usage: candidates[best] as NodeUsage, scores, best };
    },
    place: (usage) => usages.place(usage),
    finish() {},
  };
}

function searchPicker(search: BestFit, narrowing: SpreadNarrowing | null): Picker {
  return {
    pick(point) {
      narrowing?.narrow();
      return search.pick(point as number);
    },
    place: (usage) => search.place(usage),
    finish: () => search.finish(),
  };
}

/**
 * Places replicas of one task group, one after another, each seeing the ones before: filter, score
 * with the algorithm's plugins (and one per spread), pick the best. Binpack and E-PVM search for the
 * node an exhaustive scan would pick (see BestFit), ties going to the node the seeded tie ring reaches
 * first; spread and round-robin score the first `candidateLimit(nodes)` feasible nodes of a scan that
 * goes on from where the last replica's stopped, ties going to the first in a node order shuffled from
 * the seed. With `exhaustive` every node is scored and why each other one was rejected is recorded; a
 * replica that fits nowhere is always explained from every node. Pure: no I/O, no clock, no global
 * randomness, and neither the request nor the cluster is changed (pass a ClusterIndex to place many
 * groups against one cluster without re-indexing it).
 * @example placeTasks({ job, group, indexes: [0, 1, 2], algorithm: "binpack", seed: "eval-1" }, { nodes, tasks: [] })
 */
export function placeTasks(request: PlacementRequest, cluster: ClusterSnapshot | ClusterIndex): PlacementResult {
  const index = cluster instanceof ClusterIndex ? cluster : ClusterIndex.of(cluster);
  const ctx = placementContext(request, index);
  const plugins = [...SCORERS[request.algorithm], ...ctx.spreads.map(attributeSpread)];
  const usages = new CallUsages(index, ctx);
  const scan = new NodeScan(index, usages, ctx, seededRandom(request.seed));
  const exhaustive = request.exhaustive === true;
  const searched = SEARCHED[request.algorithm];
  const ties = searched ? seededRandom(`${request.seed}/ties`) : null;
  // The replicas of a group with named volumes follow the first one's node (see volume-home.ts), a
  // change within the call that the search's memo of feasible classes does not follow: they are scanned.
  const volumeBound = request.group.volumes !== undefined && request.group.volumes.length > 0 && request.job.type !== "system";
  const picker =
    searched && !exhaustive && !ctx.targets && !volumeBound
      ? searchPicker(new BestFit(index, usages, ctx, plugins, searched.key, searched.fullestFirst), ctx.spreads.length > 0 ? new SpreadNarrowing(index, usages, ctx) : null)
      : scanPicker(scan, usages, ctx, plugins, exhaustive ? Number.POSITIVE_INFINITY : candidateLimit(index.size));
  const result: PlacementResult = { placements: [], failures: [] };
  // A failure changes nothing, so every later replica would fail the same way: reuse it.
  let blocked: PlacementFailure | null = null;
  try {
    for (const slot of request.indexes) {
      if (blocked) {
        result.failures.push({ index: slot, reasons: { ...blocked.reasons }, rejected: blocked.rejected });
        continue;
      }
      const rejected: Rejection[] | null = exhaustive ? [] : null;
      const picked = picker.pick(ties ? ringPoint(ties) : null, rejected);
      if (!picked) {
        // No node passed the filters; only an exhaustive scan recorded why, so otherwise ask every node.
        const why = rejected ?? [];
        if (!rejected) scan.collect([], Number.POSITIVE_INFINITY, why);
        blocked = failureOf(slot, why);
        result.failures.push(blocked);
        continue;
      }
      picker.place(picked.usage);
      if (volumeBound) ctx.volumeNode ??= picked.usage.node.id;
      const { scores, best } = picked;
      result.placements.push({ index: slot, nodeId: picked.usage.node.id, reservedPorts: { ...ctx.reservedPorts }, score: scores[best] as (typeof scores)[number], candidates: scores, ...(rejected ? { rejected } : {}) });
    }
  } finally {
    picker.finish();
  }
  return result;
}
