import type { NodeView } from "../model/api-types.ts";
import { ChangeSet } from "./change-set.ts";
import type { ManagerContext } from "./context.ts";
import type { Queries } from "./queries.ts";

/** What admins ask of nodes: drain them, and take them out of placement or back in. */
export class NodeCommands {
  constructor(
    private readonly ctx: ManagerContext,
    private readonly queries: Queries,
  ) {}

  /**
   * Moves a node's tasks elsewhere and takes it out of placement: it turns ineligible and draining,
   * and the evaluations of the jobs with tasks there (a node change marks them) stop those tasks and
   * place replacements on other nodes, in steps that each fit one transaction of any store. It
   * returns to ready — still ineligible — once nothing runs on it. Draining twice is fine.
   */
  drain(idOrName: string): NodeView {
    const node = this.queries.requireNode(idOrName);
    const changes = new ChangeSet(this.ctx.now());
    changes.putNode({ ...node, status: node.status === "down" ? "down" : "draining", eligible: false });
    changes.publish({ at: changes.now, type: "node", node: node.id, message: `node ${node.name} is draining` });
    this.ctx.commit(changes);
    finishDrainIfEmpty(this.ctx, node.id);
    return this.queries.getNode(node.id);
  }

  /** Lets the scheduler place tasks on the node again (which ends a drain), or stops it from doing so. */
  setEligibility(idOrName: string, eligible: boolean): NodeView {
    const node = this.queries.requireNode(idOrName);
    const changes = new ChangeSet(this.ctx.now());
    changes.putNode({ ...node, eligible, status: eligible && node.status === "draining" ? "ready" : node.status });
    changes.publish({ at: changes.now, type: "node", node: node.id, message: `node ${node.name} is ${eligible ? "eligible" : "ineligible"}` });
    this.ctx.commit(changes);
    return this.queries.getNode(node.id);
  }
}

/** A draining node whose tasks have all stopped is done draining. */
export function finishDrainIfEmpty(ctx: ManagerContext, nodeId: string): void {
  const node = ctx.state.node(nodeId);
  if (node?.status !== "draining" || (ctx.state.cluster.usageOf(nodeId)?.taskCount ?? 0) > 0) return;
  const changes = new ChangeSet(ctx.now());
  changes.putNode({ ...node, status: "ready" });
  changes.publish({ at: changes.now, type: "node", node: nodeId, message: `node ${node.name} drained` });
  ctx.commit(changes);
}
