import { FILTERS } from "./algorithms.ts";
import type { CallUsages } from "./call-usages.ts";
import type { ClusterIndex } from "./cluster-index.ts";
import type { Filter, NodeUsage, PlacementContext } from "./plugin.ts";
import { SeededOrder } from "./seeded-order.ts";
import { holdsFewest, type SpreadTally } from "./spread-tally.ts";
import type { Rejection } from "./types.ts";

/**
 * Fewest feasible nodes a replica of a spread or round-robin group is scored against (binpack and
 * E-PVM search instead, see BestFit); a cluster this small is always scanned whole.
 */
export const MIN_CANDIDATES = 16;

/**
 * Feasible nodes scored per replica, like Nomad's limit for service jobs (max(2, ⌈log₂ n⌉)) but never
 * fewer than MIN_CANDIDATES. The rotating scan (see NodeScan) gives each replica fresh nodes, which
 * keeps replicas of a group apart; spreads extend the scan (see `collect`).
 */
export function candidateLimit(nodes: number): number {
  return Math.max(MIN_CANDIDATES, Math.ceil(Math.log2(Math.max(1, nodes))));
}

/** The first filter the node fails (cheapest first), or null when it passes them all. */
export function failedFilter(usage: NodeUsage, ctx: PlacementContext): Filter | null {
  for (const filter of FILTERS) if (!filter.passes(usage, ctx)) return filter;
  return null;
}

/**
 * One call's walk over the nodes in an order shuffled from the seed. Each scan starts where the one
 * before stopped and goes round (Nomad's rotating cursor), so consecutive replicas look at different
 * nodes and no node is visited twice before all have been. It sees the call's placements (CallUsages).
 */
export class NodeScan {
  private readonly order: SeededOrder;
  private targetOrder: Int32Array | null = null;
  private cursor = 0;
  /** The spreads that count (weight above 0), and which of them the current scan has a best candidate for. */
  private readonly spreads: readonly SpreadTally[];
  private readonly fewest: boolean[];

  constructor(
    private readonly cluster: ClusterIndex,
    private readonly usages: CallUsages,
    private readonly ctx: PlacementContext,
    random: () => number,
  ) {
    this.spreads = ctx.spreads.filter((s) => s.weight > 0);
    this.fewest = this.spreads.map(() => false);
    this.order = new SeededOrder(cluster.size, random);
  }

  /**
   * Adds feasible nodes to `into` until it holds `limit` of them and, for every spread, one whose value
   * holds the fewest replicas (so the scan cannot miss the value the spread wants), or until it went
   * round every node. With `rejected`, every node is visited from the start of the order and each
   * rejected one recorded. Returns true when it went round every node.
   */
  collect(into: NodeUsage[], limit: number, rejected: Rejection[] | null): boolean {
    const targets = rejected || !this.ctx.targets ? null : this.targetsInOrder();
    const n = targets ? targets.length : this.order.size;
    const start = rejected ? 0 : this.cursor;
    const spreads = this.spreads;
    let unmet = spreads.length;
    this.fewest.fill(false);
    let visited = 0;
    while (visited < n) {
      const at = start + visited < n ? start + visited : start + visited - n;
      const position = targets ? (targets[at] as number) : this.order.at(at);
      visited++;
      const usage = this.usages.at(position);
      const failed = failedFilter(usage, this.ctx);
      if (failed !== null) {
        rejected?.push({ nodeId: usage.node.id, nodeName: usage.node.name, reason: failed.reason(usage, this.ctx) });
        continue;
      }
      into.push(usage);
      for (let i = 0; i < spreads.length && unmet > 0; i++) {
        if (!this.fewest[i] && holdsFewest(spreads[i] as SpreadTally, usage.node)) {
          this.fewest[i] = true;
          unmet--;
        }
      }
      if (into.length >= limit && unmet === 0) break;
    }
    if (!rejected && visited < n) this.cursor = (start + visited) % n;
    return visited === n;
  }

  /** A system job's target nodes, in the seeded order (without shuffling for a single target). */
  private targetsInOrder(): Int32Array {
    if (this.targetOrder) return this.targetOrder;
    const targets = this.ctx.targets as ReadonlySet<string>;
    if (targets.size === 1) {
      const position = this.cluster.positionOf(targets.values().next().value as string);
      return (this.targetOrder = Int32Array.from(position === undefined ? [] : [position]));
    }
    return (this.targetOrder = this.order.all().filter((p) => targets.has((this.cluster.usages[p] as NodeUsage).node.id)));
  }
}
