import type { NodeUsage, PlacementContext, ScorePlugin } from "./plugin.ts";
import { normalize } from "./scores/normalize.ts";
import { ringHash, winsTie } from "./tie-ring.ts";
import type { NodeScore } from "./types.ts";

const twoDecimals = (n: number) => Math.round(n * 100) / 100;

export function totalWeight(plugins: readonly ScorePlugin[]): number {
  return plugins.reduce((sum, p) => sum + p.weight, 0);
}

/**
 * The weighted average of the plugins' values, computed the one way the scan and the search share:
 * equal values give equal totals to the last bit, and a larger value never a smaller total.
 */
export function weightedTotal(values: readonly number[], plugins: readonly ScorePlugin[], weights: number): number {
  let weighted = 0;
  for (let j = 0; j < plugins.length; j++) weighted += (values[j] as number) * (plugins[j] as ScorePlugin).weight;
  return weighted / weights;
}

/** A scored node as the report shows it: the total and each plugin's value, rounded. */
export function nodeScore(usage: NodeUsage, values: readonly number[], plugins: readonly ScorePlugin[], total: number): NodeScore {
  const byPlugin: Record<string, number> = {};
  plugins.forEach((plugin, j) => {
    byPlugin[plugin.name] = twoDecimals(values[j] as number);
  });
  return { nodeId: usage.node.id, nodeName: usage.node.name, total: twoDecimals(total), byPlugin };
}

const winsRingTie = (a: NodeUsage, b: NodeUsage, point: number) => winsTie(ringHash(a.node.id), a.node.id, ringHash(b.node.id), b.node.id, point);

/**
 * Scores every candidate with the algorithm's plugins and returns the index of the best: the
 * highest total; among equal ones the first candidate (the seeded order decides), or, given a ring
 * point, the node the tie ring reaches first from it (see tie-ring.ts). The pick uses exact totals;
 * the report rounds them.
 */
export function scoreNodes(candidates: readonly NodeUsage[], ctx: PlacementContext, plugins: readonly ScorePlugin[], point: number | null): { scores: NodeScore[]; best: number } {
  const perPlugin = plugins.map((plugin) => {
    const raw = candidates.map((c) => plugin.score(c, ctx));
    if (!plugin.normalized) return raw;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const r of raw) {
      if (r < min) min = r;
      if (r > max) max = r;
    }
    return raw.map((r) => normalize(r, min, max));
  });
  const weights = totalWeight(plugins);
  const values: number[] = [];
  let best = 0;
  let bestTotal = Number.NEGATIVE_INFINITY;
  const scores = candidates.map((c, i) => {
    plugins.forEach((_, j) => {
      values[j] = perPlugin[j]?.[i] ?? 0;
    });
    const total = weightedTotal(values, plugins, weights);
    if (total > bestTotal || (total === bestTotal && point !== null && winsRingTie(c, candidates[best] as NodeUsage, point))) {
      bestTotal = total;
      best = i;
    }
    return nodeScore(c, values, plugins, total);
  });
  return { scores, best };
}
