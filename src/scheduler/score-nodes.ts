import type { NodeUsage, PlacementContext, ScorePlugin } from "./plugin.ts";
import type { NodeScore } from "./types.ts";

const twoDecimals = (n: number) => Math.round(n * 100) / 100;

/**
 * Scores every candidate with the algorithm's plugins and returns the index of the best: the first
 * maximal total, so the seeded candidate order breaks ties. The pick uses exact totals; the report
 * rounds them.
 */
export function scoreNodes(candidates: readonly NodeUsage[], ctx: PlacementContext, plugins: readonly ScorePlugin[]): { scores: NodeScore[]; best: number } {
  const perPlugin = plugins.map((plugin) => {
    const raw = candidates.map((c) => plugin.score(c, ctx));
    return plugin.normalize ? plugin.normalize(raw) : raw;
  });
  const totalWeight = plugins.reduce((sum, p) => sum + p.weight, 0);
  let best = 0;
  let bestTotal = Number.NEGATIVE_INFINITY;
  const scores = candidates.map((c, i) => {
    const byPlugin: Record<string, number> = {};
    let weighted = 0;
    plugins.forEach((plugin, j) => {
      const value = perPlugin[j]?.[i] ?? 0;
      byPlugin[plugin.name] = twoDecimals(value);
      weighted += value * plugin.weight;
    });
    const total = weighted / totalWeight;
    if (total > bestTotal) {
      bestTotal = total;
      best = i;
    }
    return { nodeId: c.node.id, nodeName: c.node.name, total: twoDecimals(total), byPlugin };
  });
  return { scores, best };
}
