import type { Node } from "../model/node.ts";
import { isGone } from "../model/task-state.ts";
import { ChangeSet } from "./change-set.ts";
import type { ManagerContext } from "./context.ts";
import { STEP_WRITES } from "./evaluator.ts";
import { ledger } from "./task-ledger.ts";

/**
 * Marks nodes down when they stop heartbeating, and their tasks lost (their jobs place them
 * elsewhere), from the heartbeats kept in memory. Heartbeats from before this manager started
 * checking are not trusted to mean "alive" or "dead": a node gets a full TTL after a manager restart,
 * and after a failover to a new leader (which may not have seen every heartbeat), so a failover never
 * moves tasks of nodes that live.
 */
export class NodeLiveness {
  private timer: ReturnType<typeof setInterval> | null = null;
  private startedAt: number;

  constructor(
    private readonly ctx: ManagerContext,
    private readonly heartbeatTtlMs: number,
  ) {
    this.startedAt = ctx.now();
  }

  /**
   * One pass: each node found silent is written down, and the tasks of down nodes lost, at most
   * STEP_WRITES tasks per transaction (a node's tasks may not fit one etcd transaction); a pass
   * that stops in the middle leaves the rest to the next, which finds them still live on a down node.
   */
  check(): void {
    const { state, log } = this.ctx;
    const now = this.ctx.now();
    for (const node of state.nodeList()) {
      if (node.status === "down") {
        this.loseTasks(node, `node ${node.name} is down`);
        continue;
      }
      const seen = Math.max(node.lastHeartbeat, this.startedAt);
      if (now - seen <= this.heartbeatTtlMs) continue;
      const changes = new ChangeSet(now);
      changes.putNode({ ...node, status: "down" });
      changes.publish({ at: now, type: "node", node: node.id, message: `node ${node.name} is down: no heartbeat for ${Math.round((now - seen) / 1000)}s` });
      this.loseTasks(node, `node ${node.name} stopped heartbeating`, changes);
      log.warn("node down", { node: node.name, silentMs: now - seen });
    }
  }

  private loseTasks(node: Node, why: string, first?: ChangeSet): void {
    const { state, commit } = this.ctx;
    const live = [...state.tasks.activeOn(node.id)].filter((task) => !isGone(task.state));
    let changes = first ?? new ChangeSet(this.ctx.now());
    for (let at = 0; at < live.length; at += STEP_WRITES) {
      for (const task of live.slice(at, at + STEP_WRITES)) ledger.transition(changes, task, "lost", { desired: "stopped" }, why);
      commit(changes);
      changes = new ChangeSet(this.ctx.now());
    }
    if (live.length === 0) commit(changes);
  }

  start(): void {
    this.startedAt = this.ctx.now();
    const period = Math.max(250, Math.floor(this.heartbeatTtlMs / 4));
    this.timer = setInterval(() => {
      // A store that cannot take writes now (etcd without quorum) refuses the pass; the next one tries again.
      try {
        this.check();
      } catch (err) {
        this.ctx.log.warn("liveness pass failed; the next one tries again", { error: (err as Error).message });
      }
    }, period);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
