import type { CallUsages } from "./call-usages.ts";
import { type CapacityClass, type ClassRange, type Member, type OrderKey, room } from "./capacity-class.ts";
import { CapacityOrder } from "./capacity-order.ts";
import type { ClusterIndex, ParkedGroup } from "./cluster-index.ts";
import { EPSILON } from "./filters/resources-fit.ts";
import { ClassMemo } from "./class-memo.ts";
import { failedFilter } from "./node-scan.ts";
import type { NodeUsage, PlacementContext, ScorePlugin } from "./plugin.ts";
import { nodeScore, totalWeight, weightedTotal } from "./score-nodes.ts";
import { normalize } from "./scores/normalize.ts";
import { ringHash, winsTie } from "./tie-ring.ts";
import type { NodeScore } from "./types.ts";

/** The most a plugin without `upper` can give: raw scores are 0–100, and so are normalized ones. */
const TOP = 100;
/**
 * How far below the highest raw score (relative to the scores' size) a score may still normalize to
 * the same: far more than the few ulps rounding can close, far less than any real difference.
 */
const NEAR = 1e-9;
const NO_GROUPS: Map<string, number> = new Map();
/** Stands in for a class's node until the probe is first set. */
const PROBE_NODE: NodeUsage["node"] = { id: "", name: "", address: "", datacenter: "", labels: {}, capacity: { cpu: 0, memory: 0, disk: 0 }, stats: null, status: "ready", eligible: true, lastHeartbeat: 0, registeredAt: 0, version: "" };

export interface Picked {
  usage: NodeUsage;
  /** The nodes that led when the search met them (each better than all before it): the pick is the last. */
  scores: NodeScore[];
  best: number;
}

type Visit = (found: CapacityClass) => void;
type Skip = (range: ClassRange) => boolean;

/** A normalized plugin's highest or lowest raw score over the feasible nodes, and a node with it. */
interface Extreme {
  raw: number;
  member: Member;
}

/**
 * Finds the node an exhaustive scan would pick, without scoring every node: branch and bound over
 * capacity classes (see CapacityOrder). Classes are visited fullest first (binpack, by fill) or
 * emptiest first (E-PVM, by task count); a subtree is skipped when no node in it fits, or when its
 * bound (each plugin's `upper`, or 100, weighted as totals are) is below the best total found. In a
 * class, plugins marked `byClass` are scored once, those `byAttribute` bound by the values its nodes
 * have, and members are tried in tie order from the replica's ring point: once one reaches the
 * class's bound, no later member can beat it. Every filter still applies to every member that could
 * win, and ties go as in the scan (see tie-ring.ts), so the pick is the scan's, node and score.
 *
 * The call's placements are kept apart: nodes holding replicas of the group (their job anti-affinity
 * is lower, and distinct_hosts rules them out) move from the cluster's order into the call's own
 * `holders` order as the search meets them or places there. When the call ends they stay out, parked
 * in the index for the next call for the same group (the next step of the same evaluation), which
 * takes them up as they are; any other use of the order puts them back (ClusterIndex.resume, park).
 * A normalized plugin (E-PVM) needs the range of its raw scores over every feasible node, as the scan
 * normalizes over every candidate: searches find its highest and lowest, or keep them from the replica
 * before when the placement in between cannot have moved them (see `end`); alone, it needs one search
 * (see `pickAlone`).
 */
export class BestFit {
  /** The cluster's order, without the nodes out of it for the group (see `out`). */
  private readonly order: CapacityOrder;
  private readonly holders: CapacityOrder;
  /** Nodes out of the cluster's order for the group: in `holders`, or in neither (see `place`). */
  private readonly out: Set<string>;
  /** Where this call placed. */
  private readonly placedOn: string[] = [];
  private readonly transfers: NodeUsage[] = [];
  private readonly weights: number;
  private readonly onePerNode: boolean;
  /** Per plugin, the ends of the range of raw scores over the feasible nodes (normalized plugins only). */
  private readonly lowest: (Extreme | null)[] = [];
  private readonly highest: (Extreme | null)[] = [];
  /** The call's copy of the node the last replica went to. */
  private placed: NodeUsage | null = null;
  /** The class being visited, as a usage for `byClass` plugins and the resource filter (see `enter`). */
  private readonly probe: NodeUsage = { node: PROBE_NODE, allocated: { cpu: 0, memory: 0, disk: 0 }, ports: new Set(), groups: NO_GROUPS, taskCount: 0 };
  /** The probe's groups for a class of nodes holding the group. */
  private readonly holding = new Map<string, number>();
  private readonly memo: ClassMemo;
  private readonly classValues: number[] = [];
  private readonly values: number[] = [];
  private inCluster = false;
  private point = 0;
  private bestTotal = Number.NEGATIVE_INFINITY;
  private best: Member | null = null;
  /** The node the pick started from as its best (see `pick`): already scored. */
  private incumbent: Member | null = null;
  private scores: NodeScore[] = [];
  private bestIndex = 0;

  constructor(
    private readonly cluster: ClusterIndex,
    private readonly usages: CallUsages,
    private readonly ctx: PlacementContext,
    private readonly plugins: readonly ScorePlugin[],
    private readonly key: OrderKey,
    private readonly fullestFirst: boolean,
  ) {
    const { order, parked } = cluster.resume(key, ctx.groupKey);
    this.order = order;
    this.holders = parked?.holders ?? new CapacityOrder(key, (usage) => usage.groups.get(ctx.groupKey) ?? 0);
    this.out = parked?.out ?? new Set();
    this.memo = new ClassMemo(ctx);
    this.weights = totalWeight(plugins);
    this.onePerNode = ctx.constraints.some((c) => c.onePerNode);
  }

  /** The best node for the next replica, or null when no node is feasible. */
  pick(point: number): Picked | null {
    this.point = point;
    if (this.plugins.length === 1 && this.plugins[0]?.normalized) return this.pickAlone();
    let incumbent: Member | null = null;
    for (let j = 0; j < this.plugins.length; j++) {
      const plugin = this.plugins[j] as ScorePlugin;
      if (!plugin.normalized) continue;
      const highest = (this.highest[j] = this.end(j, this.highest[j] ?? null, true));
      if (highest === null) return null;
      this.lowest[j] = this.end(j, this.lowest[j] ?? null, false);
      incumbent = highest.member;
    }
    this.bestTotal = Number.NEGATIVE_INFINITY;
    this.best = null;
    this.scores = [];
    // A node with a normalized plugin's highest score is a good first best: the search then skips more.
    this.incumbent = incumbent;
    if (incumbent) this.keep(incumbent, this.totalOf(incumbent.usage, null));
    this.search(
      this.fullestFirst,
      (range) => this.upperTotal(range) < this.bestTotal,
      (found) => this.visit(found),
    );
    // Set by `visit` during the search (which the compiler's narrowing cannot see).
    const best = this.best as Member | null;
    return best ? { usage: best.usage, scores: this.scores, best: this.bestIndex } : null;
  }

  /**
   * The pick when a normalized plugin is the only one (E-PVM without spreads): a node's total is its
   * normalized score, so the best are the nodes with the highest raw score, and those whose raw score
   * normalizes to the same (a few ulps below). One search finds the highest and keeps every class
   * within NEAR of it, each with its first feasible member round the ring; the best of those is the pick.
   */
  private pickAlone(): Picked | null {
    const lowest = (this.lowest[0] = this.end(0, this.lowest[0] ?? null, false));
    if (lowest === null) return null;
    const plugin = this.plugins[0] as ScorePlugin;
    const upper = plugin.upper as (range: ClassRange, ctx: PlacementContext) => number;
    const near: Extreme[] = [];
    let top = Number.NEGATIVE_INFINITY;
    const floor = () => top - NEAR * (1 + Math.abs(top) + Math.abs(lowest.raw));
    this.search(
      this.fullestFirst,
      (range) => upper(range, this.ctx) < floor(),
      (at) => {
        const raw = this.memo.rawOf(at, plugin, this.probe);
        if (raw < floor()) return;
        const member = this.firstCandidate(at);
        if (!member) return;
        near.push({ raw, member });
        if (raw > top) top = raw;
      },
    );
    const highest = near.find((e) => e.raw === top);
    if (!highest) return null;
    this.highest[0] = highest;
    this.scores = [];
    this.best = null;
    for (const { raw, member } of near) {
      if (raw < floor()) continue;
      const total = this.totalOf(member.usage, null);
      const best = this.best as Member | null;
      if (!best || total > this.bestTotal || (total === this.bestTotal && winsTie(member.ring, member.usage.node.id, best.ring, best.usage.node.id, this.point))) this.keep(member, total);
    }
    const best = this.best as Member | null;
    return best ? { usage: best.usage, scores: this.scores, best: this.bestIndex } : null;
  }

  /**
   * Records a replica on the node; it now holds the group, so it belongs to the call's own order, but
   * not with the group's static host ports, which no second replica there could have.
   */
  place(usage: NodeUsage): void {
    const own = this.usages.place(usage);
    this.take(own.node.id);
    if (this.ctx.hostPorts.length > 0) this.holders.delete(own.node.id);
    else this.holders.set(own);
    this.placed = own;
    this.placedOn.push(own.node.id);
  }

  /**
   * Parks what the call took out of the cluster's order, for the next call for the same group. The
   * call's own copies give way to the cluster's usages, which the index keeps current as the caller
   * counts the placed tasks; a placement it does not keep goes back on the next resume.
   */
  finish(): void {
    for (const nodeId of this.placedOn) {
      const usage = this.cluster.usageOf(nodeId);
      if (usage && this.holders.has(nodeId)) this.holders.set(usage);
    }
    const parked: ParkedGroup = { key: this.key, groupKey: this.ctx.groupKey, holders: this.holders, out: this.out, placed: this.placedOn };
    this.cluster.park(parked);
  }

  /** Searches the cluster's order, then (unless distinct_hosts rules them out) the nodes holding the group. */
  private search(fullestFirst: boolean, skip: Skip, visit: Visit): void {
    this.inCluster = true;
    this.walk(this.order.root, fullestFirst, skip, visit);
    for (const usage of this.transfers) {
      this.take(usage.node.id);
      this.holders.set(usage);
    }
    this.transfers.length = 0;
    if (this.onePerNode) return;
    this.inCluster = false;
    this.walk(this.holders.root, fullestFirst, skip, visit);
  }

  private walk(at: CapacityClass | null, fullestFirst: boolean, skip: Skip, visit: Visit): void {
    if (at === null || !this.fitsSomewhere(at) || skip(at)) return;
    this.walk(fullestFirst ? at.right : at.left, fullestFirst, skip, visit);
    if (this.enter(at)) visit(at);
    this.walk(fullestFirst ? at.left : at.right, fullestFirst, skip, visit);
  }

  /**
   * The resource filter's test of cpu and memory against the most any class in the range has free. A
   * node that fits has at least need − EPSILON free of each, so at least its room minus EPSILON in
   * every direction.
   */
  private fitsSomewhere(range: ClassRange): boolean {
    const { cpu, memory } = this.ctx.request.group.resources;
    return (
      cpu <= range.maxFreeCpu + EPSILON &&
      memory <= range.maxFreeMemory + EPSILON &&
      room(cpu, memory, 128) <= range.maxRoom128 + EPSILON &&
      room(cpu, memory, 512) <= range.maxRoom512 + EPSILON &&
      room(cpu, memory, 2048) <= range.maxRoom2048 + EPSILON &&
      room(cpu, memory, 8192) <= range.maxRoom8192 + EPSILON
    );
  }

  /** Makes the probe the class; true when the task fits its nodes' cpu and memory (as the resource filter computes it). */
  private enter(found: CapacityClass): boolean {
    // Any member will do for what the class shares; in the cluster's order a member may hold the group, the class not.
    const { node, allocated, taskCount } = (found.members[0] as Member).usage;
    const probe = this.probe;
    probe.node = node;
    probe.allocated = allocated;
    probe.taskCount = taskCount;
    if (found.holds > 0) probe.groups = this.holding.set(this.ctx.groupKey, found.holds);
    else probe.groups = NO_GROUPS;
    const { cpu, memory } = this.ctx.request.group.resources;
    return cpu <= found.cpu - found.usedCpu + EPSILON && memory <= found.memory - found.usedMemory + EPSILON;
  }

  /** True for a node holding the group met in the cluster's order: it moves to the call's own order (see `search`). */
  private movesToHolders(usage: NodeUsage): boolean {
    if (!this.inCluster || !usage.groups.has(this.ctx.groupKey)) return false;
    this.transfers.push(usage);
    return true;
  }

  /** A member that may be scored here: feasible, and not one moving to the call's own order. */
  private candidate(usage: NodeUsage): boolean {
    return !this.movesToHolders(usage) && failedFilter(usage, this.ctx) === null;
  }

  /** The class's first feasible member round the ring from the replica's point. */
  private firstCandidate(found: CapacityClass): Member | null {
    const members = found.members;
    let i = found.seek(this.point);
    for (let k = 0; k < members.length; k++, i++) {
      if (i === members.length) i = 0;
      const member = members[i] as Member;
      if (this.candidate(member.usage)) return member;
    }
    return null;
  }

  /** Takes a node out of the cluster's order (see `finish`). */
  private take(nodeId: string): void {
    if (!this.order.has(nodeId)) return;
    this.order.delete(nodeId);
    this.out.add(nodeId);
  }

  /**
   * One end of a normalized plugin's range for this replica. Only the node placed last changed since
   * the one before: if it is feasible and at or past the known end, it is the new end; else a known
   * end on another node still holds; else it is searched for again.
   */
  private end(j: number, known: Extreme | null, highest: boolean): Extreme | null {
    const plugin = this.plugins[j] as ScorePlugin;
    const placed = this.placed;
    if (known && placed) {
      if (failedFilter(placed, this.ctx) === null) {
        const raw = plugin.score(placed, this.ctx);
        if (highest ? raw >= known.raw : raw <= known.raw) return { raw, member: { usage: placed, ring: ringHash(placed.node.id) } };
      }
      if (known.member.usage.node.id !== placed.node.id) return known;
    }
    return this.extreme(j, highest);
  }

  /** A normalized plugin's highest (or lowest) raw score over the feasible nodes, or null when none is feasible. */
  private extreme(j: number, highest: boolean): Extreme | null {
    const plugin = this.plugins[j] as ScorePlugin;
    const bound = (highest ? plugin.upper : plugin.lower) as (range: ClassRange, ctx: PlacementContext) => number;
    let found: Extreme | null = null;
    this.search(
      highest ? this.fullestFirst : !this.fullestFirst,
      (range) => found !== null && (highest ? bound(range, this.ctx) <= found.raw : bound(range, this.ctx) >= found.raw),
      (at) => {
        const raw = this.memo.rawOf(at, plugin, this.probe);
        if (found !== null && (highest ? raw <= found.raw : raw >= found.raw)) return;
        const member = this.firstCandidate(at);
        if (member) found = { raw, member };
      },
    );
    return found;
  }

  private valueOf(j: number, raw: number): number {
    return (this.plugins[j] as ScorePlugin).normalized ? normalize(raw, (this.lowest[j] as Extreme).raw, (this.highest[j] as Extreme).raw) : raw;
  }

  private upperTotal(range: ClassRange): number {
    const values = this.values;
    for (let j = 0; j < this.plugins.length; j++) {
      const upper = (this.plugins[j] as ScorePlugin).upper;
      values[j] = upper ? this.valueOf(j, upper(range, this.ctx)) : TOP;
    }
    return weightedTotal(values, this.plugins, this.weights);
  }

  private visit(found: CapacityClass): void {
    const { plugins, classValues, point } = this;
    for (let j = 0; j < plugins.length; j++) {
      const plugin = plugins[j] as ScorePlugin;
      if (plugin.byClass) classValues[j] = this.valueOf(j, plugin.normalized ? this.memo.rawOf(found, plugin, this.probe) : plugin.score(this.probe, this.ctx));
      else classValues[j] = plugin.byAttribute ? this.valueOf(j, this.memo.ceilingOf(found, plugin)) : TOP;
    }
    const most = weightedTotal(classValues, plugins, this.weights);
    if (most < this.bestTotal || !this.memo.anyQualifies(found)) return;
    const members = found.members;
    let i = found.seek(point);
    for (let k = 0; k < members.length; k++, i++) {
      if (i === members.length) i = 0;
      const member = members[i] as Member;
      const best = this.best;
      // Later members come later round the ring: at the class's bound, none can win any more.
      if (most === this.bestTotal && best && !winsTie(member.ring, member.usage.node.id, best.ring, best.usage.node.id, point)) return;
      if (member.usage.node.id === this.incumbent?.usage.node.id || this.movesToHolders(member.usage)) continue;
      const total = this.totalOf(member.usage, classValues);
      // Scored before it is filtered: one that cannot win needs neither.
      if (best && (total < this.bestTotal || (total === this.bestTotal && !winsTie(member.ring, member.usage.node.id, best.ring, best.usage.node.id, point)))) continue;
      if (failedFilter(member.usage, this.ctx) !== null) continue;
      this.keep(member, total);
      if (total === most) return;
    }
  }

  /** The member's total (its values left in `values`), taking its class's for `byClass` plugins when given. */
  private totalOf(usage: NodeUsage, classValues: readonly number[] | null): number {
    const { plugins, values } = this;
    for (let j = 0; j < plugins.length; j++) {
      const plugin = plugins[j] as ScorePlugin;
      values[j] = plugin.byClass && classValues ? (classValues[j] as number) : this.valueOf(j, plugin.score(usage, this.ctx));
    }
    return weightedTotal(values, plugins, this.weights);
  }

  /** Records a feasible member that beats the best so far (its values in `values`): it is the best now. */
  private keep(member: Member, total: number): void {
    this.scores.push(nodeScore(member.usage, this.values, this.plugins, total));
    this.bestTotal = total;
    this.best = member;
    this.bestIndex = this.scores.length - 1;
  }

}
