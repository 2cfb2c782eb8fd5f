import { ConflictError, NotFoundError } from "../lib/errors.ts";
import { newId } from "../lib/ids.ts";
import type { Logger } from "../lib/logger.ts";
import type { NodeEvent, RegisterRequest } from "../model/api-types.ts";
import type { Node, NodeStats } from "../model/node.ts";
import { isGone } from "../model/task-state.ts";
import type { Store } from "../store/index.ts";
import type { AssignmentWatch } from "./assignment-watch.ts";
import type { EventBus } from "./event-bus.ts";
import type { TaskLedger } from "./task-ledger.ts";

export interface NodeRegistryOptions {
  store: Store;
  ledger: TaskLedger;
  watch: AssignmentWatch;
  bus: EventBus;
  log: Logger;
  /** A node silent for this long is down and its tasks are lost. */
  heartbeatTtlMs: number;
  onChange: () => void;
  onHeartbeat?: (node: Node) => void;
  now?: () => number;
}

/** Joins, heartbeats and liveness of workers. */
export class NodeRegistry {
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Heartbeats seen before this manager started are not trusted to mean "alive" or "dead". */
  private readonly startedAt: number;
  private readonly now: () => number;

  constructor(private readonly options: NodeRegistryOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  register(request: RegisterRequest): Node {
    const { store } = this.options;
    const now = this.now();
    const byName = store.getNodeByName(request.name);
    if (byName && byName.id !== request.id) {
      throw new ConflictError(
        `node name "${request.name}" belongs to node ${byName.id} (${byName.status}); restart that worker with its own data dir, or give this one another --name`,
      );
    }
    const existing = request.id ? store.getNode(request.id) : null;
    const node: Node = {
      id: existing?.id ?? request.id ?? newId(),
      name: request.name,
      address: request.address,
      datacenter: request.datacenter,
      labels: request.labels,
      capacity: request.capacity,
      stats: existing?.stats ?? null,
      status: existing?.status === "draining" ? "draining" : "ready",
      eligible: existing?.eligible ?? true,
      lastHeartbeat: now,
      registeredAt: existing?.registeredAt ?? now,
      version: request.version,
    };
    store.upsertNode(node);
    this.options.bus.publish({ at: now, type: "node", node: node.id, message: `node ${node.name} ${existing ? "rejoined" : "joined"} (${node.address})` });
    this.options.log.info(existing ? "node rejoined" : "node joined", { node: node.name, id: node.id, address: node.address });
    this.options.watch.bump(node.id);
    this.options.onChange();
    return node;
  }

  /** `events`: what the worker did on its own (see NodeEvent), published as node events. */
  heartbeat(nodeId: string, stats: NodeStats, events: NodeEvent[] = []): Node {
    const { store } = this.options;
    const node = store.getNode(nodeId);
    if (!node) throw new NotFoundError(`node ${nodeId} is not registered; register it first`);
    const now = this.now();
    for (const event of events) this.options.bus.publish({ at: event.at, type: "node", node: nodeId, task: event.task, message: `node ${node.name}: ${event.message}` });
    const updated: Node = { ...node, stats, lastHeartbeat: now, status: node.status === "down" ? "ready" : node.status };
    store.upsertNode(updated);
    this.options.onHeartbeat?.(updated);
    if (node.status === "down") {
      this.options.bus.publish({ at: now, type: "node", node: nodeId, message: `node ${node.name} is ready again` });
      this.options.log.info("node back", { node: node.name });
      this.options.onChange();
    }
    return updated;
  }

  /**
   * Moves a node's tasks elsewhere and takes it out of placement: it turns ineligible and draining,
   * its tasks are asked to stop (the reconciler places their replacements on other nodes), and it
   * returns to ready — still ineligible — once nothing runs on it.
   */
  drain(idOrName: string): Node {
    const { store, ledger } = this.options;
    const node = this.require(idOrName);
    const now = this.now();
    store.transaction(() => {
      store.upsertNode({ ...node, status: node.status === "down" ? "down" : "draining", eligible: false });
      for (const task of store.listTasks({ nodeId: node.id, desired: "running" })) {
        if (!isGone(task.state)) ledger.requestStop(task, `node ${node.name} is draining`, now);
      }
    });
    this.options.bus.publish({ at: now, type: "node", node: node.id, message: `node ${node.name} is draining` });
    this.options.onChange();
    this.finishDrainIfEmpty(node.id);
    return store.getNode(node.id) as Node;
  }

  /** Lets the scheduler place tasks on the node again (or stops it from doing so). */
  setEligibility(idOrName: string, eligible: boolean): Node {
    const node = this.require(idOrName);
    const status = eligible && node.status === "draining" ? "ready" : node.status;
    const updated: Node = { ...node, eligible, status };
    this.options.store.upsertNode(updated);
    this.options.bus.publish({ at: this.now(), type: "node", node: node.id, message: `node ${node.name} is ${eligible ? "eligible" : "ineligible"}` });
    this.options.onChange();
    return updated;
  }

  /** A draining node whose tasks have all stopped is done draining. */
  finishDrainIfEmpty(nodeId: string): void {
    const { store } = this.options;
    const node = store.getNode(nodeId);
    if (node?.status !== "draining") return;
    if (store.listTasks({ nodeId }).some((t) => !isGone(t.state))) return;
    store.upsertNode({ ...node, status: "ready" });
    this.options.bus.publish({ at: this.now(), type: "node", node: nodeId, message: `node ${node.name} drained` });
  }

  private require(idOrName: string): Node {
    const node = this.options.store.getNode(idOrName) ?? this.options.store.getNodeByName(idOrName);
    if (!node) throw new NotFoundError(`node ${idOrName} does not exist`);
    return node;
  }

  /** Marks silent nodes down and their tasks lost, in one transaction per node. */
  checkLiveness(): void {
    const { store, ledger, heartbeatTtlMs } = this.options;
    const now = this.now();
    let changed = false;
    for (const node of store.listNodes()) {
      if (node.status === "down") continue;
      const seen = Math.max(node.lastHeartbeat, this.startedAt);
      if (now - seen <= heartbeatTtlMs) continue;
      store.transaction(() => {
        store.upsertNode({ ...node, status: "down" });
        for (const task of store.listTasks({ nodeId: node.id })) {
          if (isGone(task.state)) continue;
          ledger.transition(task, "lost", { desired: "stopped" }, `node ${node.name} stopped heartbeating`, now);
        }
      });
      changed = true;
      this.options.bus.publish({ at: now, type: "node", node: node.id, message: `node ${node.name} is down: no heartbeat for ${Math.round((now - seen) / 1000)}s` });
      this.options.log.warn("node down", { node: node.name, silentMs: now - seen });
    }
    if (changed) this.options.onChange();
  }

  start(): void {
    const period = Math.max(250, Math.floor(this.options.heartbeatTtlMs / 4));
    this.timer = setInterval(() => this.checkLiveness(), period);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
