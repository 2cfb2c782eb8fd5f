import type { ClusterIndex } from "./cluster-index.ts";
import { addTask, copyUsage } from "./node-usage.ts";
import type { NodeUsage, PlacementContext } from "./plugin.ts";
import { countPlacement } from "./spread-tally.ts";

/**
 * The nodes as one `placeTasks` call sees them: the cluster's, with the call's placements on copies
 * of the nodes they land on (copy on write), so the index stays as the caller gave it.
 */
export class CallUsages {
  private readonly copies = new Map<number, NodeUsage>();

  constructor(
    private readonly cluster: ClusterIndex,
    private readonly ctx: PlacementContext,
  ) {}

  /** The node at this position of the cluster's `usages`, with what the call placed there. */
  at(position: number): NodeUsage {
    return this.copies.get(position) ?? (this.cluster.usages[position] as NodeUsage);
  }

  /** Records a replica on the node; returns the call's copy of it, which now holds the replica. */
  place(usage: NodeUsage): NodeUsage {
    const position = this.cluster.positionOf(usage.node.id) as number;
    let own = this.copies.get(position);
    if (!own) this.copies.set(position, (own = copyUsage(usage)));
    addTask(own, this.ctx.groupKey, this.ctx.request.group.resources, this.ctx.hostPorts);
    countPlacement(this.ctx.spreads, own.node);
    return own;
  }
}
