import type { Node } from "../model/node.ts";
import type { OrderKey } from "./capacity-class.ts";
import { CapacityOrder } from "./capacity-order.ts";
import { type AttributeReader, attributeReader } from "./filters/node-attribute.ts";
import { schedulable } from "./filters/node-status.ts";
import { emptyUsage, groupKey, type IndexedUsage } from "./node-usage.ts";
import type { NodeUsage } from "./plugin.ts";
import type { ClusterSnapshot, LiveTask } from "./types.ts";

const byNodeId = (a: NodeUsage, b: NodeUsage) => (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0);

/** Resources are summed in millionths, as integers, so adding and removing in any order gives exactly the same totals. */
const SCALE = 1_000_000;
const units = (n: number) => Math.round(n * SCALE);

/** What a counted task holds, as it was when added (so removing it takes back exactly that). */
interface Held {
  nodeId: string;
  key: string;
  cpu: number;
  memory: number;
  disk: number;
  ports: readonly number[];
}

/** A node's totals in millionths and how many tasks reserve each static port. */
interface Totals {
  cpu: number;
  memory: number;
  disk: number;
  ports: Map<number, number>;
}

/**
 * What a placement call took out of an order for one group, kept for the next call for the same
 * group (see BestFit): the nodes holding the group, in the call's own order of them, and every node
 * out of the cluster's order. The steps of a big job's evaluation then each move the nodes they place
 * on, not every node holding the group (late in a job of thousands, nearly all of them). Any other use
 * of the order puts them back first (see `byCapacity`).
 */
export interface ParkedGroup {
  key: OrderKey;
  groupKey: string;
  holders: CapacityOrder;
  /** Every node out of the cluster's order: in `holders`, or in neither (it holds the group's static host port). */
  out: Set<string>;
  /** Where the call placed: each holds the group once the caller counts the task, else it goes back on `resume`. */
  placed: string[];
}

/**
 * The cluster as the scheduler reads it: every node with what its live tasks hold, sorted by node id
 * so that the seeded order, not the caller's, decides ties. It lives as long as the manager: tasks
 * are added and removed as they start and stop holding resources, and nodes are set (joined or
 * changed) and removed, each in time proportional to what changed; so are its capacity orders (see
 * `byCapacity`), in O(log classes). `placeTasks` leaves it as it found it to any reader (a call may park
 * nodes for the next call for the same group, see ParkedGroup).
 * A task on a node the index does not know holds nothing until that node is set.
 * @example const cluster = ClusterIndex.of({ nodes, tasks }); placeTasks(request, cluster); cluster.add(placedTask); cluster.remove(stoppedTask.id)
 */
export class ClusterIndex {
  private readonly byId = new Map<string, IndexedUsage>();
  private readonly totals = new Map<string, Totals>();
  private readonly held = new Map<string, Held>();
  /** Node id → ids of the tasks counted (or waiting to be counted) there. */
  private readonly tasksOn = new Map<string, Set<string>>();
  /** Group key → node id → live tasks of the group there. */
  private readonly groupNodes = new Map<string, Map<string, number>>();
  /** Sorted by node id; rebuilt on the next read after a node joins or leaves. */
  private sorted: IndexedUsage[] | null = [];
  private readonly positions = new Map<string, number>();
  /** Attribute → each node's value, by position; dropped whenever a node is set or removed. */
  private readonly attributeValues = new Map<string, (string | undefined)[]>();
  /** Attribute → value → positions of the nodes with it; dropped with attributeValues. */
  private readonly attributePositions = new Map<string, Map<string, number[]>>();
  /** The ready, eligible nodes by capacity class, per key; each made on first use, then kept current by every change. */
  private readonly capacity = new Map<OrderKey, CapacityOrder>();
  /** Out of one of those orders for a group, between two placement calls for it (see ParkedGroup). */
  private parked: ParkedGroup | null = null;

  static of(snapshot: ClusterSnapshot): ClusterIndex {
    const index = new ClusterIndex();
    for (const node of snapshot.nodes) index.setNode(node);
    for (const task of snapshot.tasks) index.add(task);
    index.order();
    return index;
  }

  /** One per node, by node id. */
  get usages(): readonly IndexedUsage[] {
    return this.order();
  }

  get size(): number {
    return this.byId.size;
  }

  /** Position of a node in `usages`, or undefined when the index does not know it. */
  positionOf(nodeId: string): number | undefined {
    this.order();
    return this.positions.get(nodeId);
  }

  /** A node with what is allocated on it, or undefined when the index does not know it. */
  usageOf(nodeId: string): IndexedUsage | undefined {
    return this.byId.get(nodeId);
  }

  /** Where a group's live tasks are: node position → how many. */
  nodesOf(key: string): ReadonlyMap<number, number> {
    const nodes = this.groupNodes.get(key);
    if (!nodes) return EMPTY;
    this.order();
    const byPosition = new Map<number, number>();
    for (const [nodeId, n] of nodes) {
      const position = this.positions.get(nodeId);
      if (position !== undefined) byPosition.set(position, n);
    }
    return byPosition;
  }

  /** Every node's value of an attribute, by position, read once until the nodes change. */
  valuesOf(attribute: string, read: AttributeReader = attributeReader(attribute)): readonly (string | undefined)[] {
    let values = this.attributeValues.get(attribute);
    if (!values) this.attributeValues.set(attribute, (values = this.order().map((u) => read(u.node))));
    return values;
  }

  /** Positions of the nodes with each value of an attribute, made once until the nodes change. */
  positionsOf(attribute: string, read: AttributeReader = attributeReader(attribute)): ReadonlyMap<string, readonly number[]> {
    let positions = this.attributePositions.get(attribute);
    if (positions) return positions;
    positions = new Map();
    const values = this.valuesOf(attribute, read);
    for (let position = 0; position < values.length; position++) {
      const value = values[position];
      if (value === undefined) continue;
      const list = positions.get(value);
      if (list) list.push(position);
      else positions.set(value, [position]);
    }
    this.attributePositions.set(attribute, positions);
    return positions;
  }

  /** The nodes that take new tasks, in capacity classes ordered by the key (see CapacityOrder): every one of them. */
  byCapacity(key: OrderKey): CapacityOrder {
    this.unpark();
    return this.orderOf(key);
  }

  /**
   * For a placement call (BestFit): the order for the key, and what the last call for the same group
   * parked, if nothing else used the order since. A node that call placed on but that holds no task of
   * the group now (its caller kept none there) goes back into the order.
   */
  resume(key: OrderKey, group: string): { order: CapacityOrder; parked: ParkedGroup | null } {
    const parked = this.parked;
    if (!parked || parked.key !== key || parked.groupKey !== group) {
      this.unpark();
      return { order: this.orderOf(key), parked: null };
    }
    this.parked = null;
    const order = this.orderOf(key);
    for (const nodeId of parked.placed) {
      const usage = this.byId.get(nodeId);
      if (!parked.out.has(nodeId) || (usage && (usage.groups.get(group) ?? 0) > 0)) continue;
      parked.holders.delete(nodeId);
      parked.out.delete(nodeId);
      if (usage && schedulable(usage.node)) order.set(usage);
    }
    parked.placed = [];
    return { order, parked };
  }

  /** Keeps what a placement call took out of the order for the next call for the same group. */
  park(parked: ParkedGroup): void {
    this.unpark();
    this.parked = parked;
  }

  /** Puts a parked group's nodes back into the cluster's order. */
  private unpark(): void {
    const parked = this.parked;
    if (!parked) return;
    this.parked = null;
    const order = this.orderOf(parked.key);
    for (const nodeId of parked.out) {
      const usage = this.byId.get(nodeId);
      if (usage && schedulable(usage.node)) order.set(usage);
    }
  }

  private orderOf(key: OrderKey): CapacityOrder {
    let order = this.capacity.get(key);
    if (order) return order;
    order = new CapacityOrder(key);
    for (const usage of this.byId.values()) if (schedulable(usage.node)) order.set(usage);
    this.capacity.set(key, order);
    return order;
  }

  /** A node joins, or changes (status, eligibility, capacity, labels); what its tasks hold stays counted. */
  setNode(node: Node): void {
    this.unpark();
    this.forgetAttributes();
    let usage = this.byId.get(node.id);
    if (usage) usage.node = node;
    else {
      usage = emptyUsage(node);
      this.byId.set(node.id, usage);
      this.totals.set(node.id, { cpu: 0, memory: 0, disk: 0, ports: new Map() });
      this.sorted = null;
      for (const id of this.tasksOn.get(node.id) ?? []) this.count(this.held.get(id) as Held, 1);
    }
    for (const order of this.capacity.values()) {
      if (schedulable(node)) order.set(usage);
      else order.delete(node.id);
    }
  }

  /** A node leaves: it is no longer a candidate; its tasks are remembered, and count again if it is set again. */
  removeNode(nodeId: string): void {
    if (!this.byId.has(nodeId)) return;
    this.unpark();
    for (const order of this.capacity.values()) order.delete(nodeId);
    for (const id of this.tasksOn.get(nodeId) ?? []) this.count(this.held.get(id) as Held, -1);
    this.byId.delete(nodeId);
    this.totals.delete(nodeId);
    this.forgetAttributes();
    this.sorted = null;
  }

  /** Counts a live task against its node (again with its new fields if it was counted); one on no node holds nothing. */
  add(task: LiveTask): void {
    if (task.nodeId === null) return this.remove(task.id);
    const ports: number[] = [];
    for (const name in task.reservedPorts) ports.push(task.reservedPorts[name] as number);
    const held: Held = {
      nodeId: task.nodeId,
      key: groupKey(task.job, task.group),
      cpu: units(task.resources.cpu),
      memory: units(task.resources.memory),
      disk: units(task.resources.disk),
      ports: ports.length > 0 ? ports : NO_PORTS,
    };
    // Most changes of a live task (pending to running, a restart) leave what it holds as it was: nothing to count again.
    const was = this.held.get(task.id);
    if (was && sameHolding(was, held)) return;
    this.remove(task.id);
    this.held.set(task.id, held);
    let ids = this.tasksOn.get(held.nodeId);
    if (!ids) this.tasksOn.set(held.nodeId, (ids = new Set()));
    ids.add(task.id);
    if (this.byId.has(held.nodeId)) this.count(held, 1);
  }

  /** The task no longer holds anything (it ended, or was lost); unknown ids are ignored. */
  remove(taskId: string): void {
    const held = this.held.get(taskId);
    if (!held) return;
    this.held.delete(taskId);
    const ids = this.tasksOn.get(held.nodeId) as Set<string>;
    ids.delete(taskId);
    if (ids.size === 0) this.tasksOn.delete(held.nodeId);
    if (this.byId.has(held.nodeId)) this.count(held, -1);
  }

  private count(held: Held, sign: 1 | -1): void {
    const usage = this.byId.get(held.nodeId) as IndexedUsage;
    const totals = this.totals.get(held.nodeId) as Totals;
    totals.cpu += sign * held.cpu;
    totals.memory += sign * held.memory;
    totals.disk += sign * held.disk;
    usage.allocated.cpu = totals.cpu / SCALE;
    usage.allocated.memory = totals.memory / SCALE;
    usage.allocated.disk = totals.disk / SCALE;
    usage.taskCount += sign;
    for (const port of held.ports) {
      const n = (totals.ports.get(port) ?? 0) + sign;
      if (n > 0) {
        totals.ports.set(port, n);
        usage.ports.add(port);
      } else {
        totals.ports.delete(port);
        usage.ports.delete(port);
      }
    }
    bump(usage.groups, held.key, sign);
    for (const order of this.capacity.values()) if (order.has(held.nodeId)) order.set(usage);
    const parked = this.parked;
    if (parked?.out.has(held.nodeId)) {
      if ((usage.groups.get(parked.groupKey) ?? 0) > 0) {
        if (parked.holders.has(held.nodeId)) parked.holders.set(usage);
      } else {
        // It no longer holds the group: a candidate like any other again.
        parked.holders.delete(held.nodeId);
        parked.out.delete(held.nodeId);
        if (schedulable(usage.node)) this.orderOf(parked.key).set(usage);
      }
    }
    let nodes = this.groupNodes.get(held.key);
    if (!nodes) this.groupNodes.set(held.key, (nodes = new Map()));
    bump(nodes, held.nodeId, sign);
    if (nodes.size === 0) this.groupNodes.delete(held.key);
  }

  private forgetAttributes(): void {
    this.attributeValues.clear();
    this.attributePositions.clear();
  }

  private order(): IndexedUsage[] {
    if (this.sorted) return this.sorted;
    const sorted = [...this.byId.values()].sort(byNodeId);
    this.positions.clear();
    sorted.forEach((u, i) => this.positions.set(u.node.id, i));
    this.sorted = sorted;
    return sorted;
  }
}

function sameHolding(a: Held, b: Held): boolean {
  return a.nodeId === b.nodeId && a.key === b.key && a.cpu === b.cpu && a.memory === b.memory && a.disk === b.disk && a.ports.length === b.ports.length && a.ports.every((p, i) => p === b.ports[i]);
}

function bump<K>(counts: Map<K, number>, key: K, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

const EMPTY: ReadonlyMap<number, number> = new Map();
const NO_PORTS: readonly number[] = [];
