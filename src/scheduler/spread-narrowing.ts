import type { CallUsages } from "./call-usages.ts";
import type { ClusterIndex } from "./cluster-index.ts";
import { failedFilter } from "./node-scan.ts";
import type { PlacementContext } from "./plugin.ts";
import { dropValues, type SpreadTally } from "./spread-tally.ts";

/**
 * Before each replica a search places, narrows the spreads as an exhaustive scan's `narrowTallies`
 * does (a value no feasible node has stops counting as the fewest or the most), without scanning every
 * node: only the values at the fewest and at the most are checked, each by a witness, a feasible node
 * with that value. Within a call a node that stops being feasible never becomes feasible again (nodes
 * only fill up), so each value's witness is sought by a cursor over the nodes with it that never goes
 * back: O(nodes) for a whole call at worst, O(values) per replica otherwise.
 */
export class SpreadNarrowing {
  private readonly positions: ReadonlyMap<string, readonly number[]>[];
  private readonly cursors: Map<string, number>[];

  constructor(
    cluster: ClusterIndex,
    private readonly usages: CallUsages,
    private readonly ctx: PlacementContext,
  ) {
    this.positions = ctx.spreads.map((tally) => cluster.positionsOf(tally.attribute, tally.read));
    this.cursors = ctx.spreads.map(() => new Map());
  }

  narrow(): void {
    this.ctx.spreads.forEach((tally, i) => {
      this.settle(tally, i, () => tally.fewest);
      this.settle(tally, i, () => tally.most);
    });
  }

  /** Drops the values at one end (fewest or most) until one there has a feasible node. */
  private settle(tally: SpreadTally, i: number, end: () => number): void {
    for (;;) {
      const count = end();
      const dead: string[] = [];
      for (const [value, n] of tally.counts) {
        if (n !== count) continue;
        if (this.hasFeasible(i, value)) return;
        dead.push(value);
      }
      if (dead.length === 0) return;
      dropValues(tally, dead);
    }
  }

  private hasFeasible(i: number, value: string): boolean {
    const nodes = this.positions[i]?.get(value) ?? [];
    const cursors = this.cursors[i] as Map<string, number>;
    let at = cursors.get(value) ?? 0;
    while (at < nodes.length && failedFilter(this.usages.at(nodes[at] as number), this.ctx) !== null) at++;
    cursors.set(value, at);
    return at < nodes.length;
  }
}
