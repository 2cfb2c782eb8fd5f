import type { NodeUsage } from "./plugin.ts";
import { pressure } from "./scores/epvm.ts";
import { load } from "./scores/load.ts";

/** A node of a class, with its place on the tie-break ring (see tie-ring.ts). */
export interface Member {
  usage: NodeUsage;
  ring: number;
}

/**
 * What the classes of a subtree hold at most and at least, for a search to skip the subtree when no
 * node in it fits or none can beat the best found (see ScorePlugin.upper).
 */
export interface ClassRange {
  maxFreeCpu: number;
  maxFreeMemory: number;
  /**
   * The most room for cpu and memory together: min(free cores, free MiB / r) for r = 128, 512, 2,048
   * and 8,192 MiB per core. The most free per resource cannot tell a subtree where every node lacks
   * cpu or memory (some one, some the other) from one where a node has both; these can, unless a task
   * asks for the two in a ratio far from every r.
   */
  maxRoom128: number;
  maxRoom512: number;
  maxRoom2048: number;
  maxRoom8192: number;
  /** Allocated fraction of cpu plus that of memory (a resource the node lacks counts as full). */
  maxFill: number;
  /** 1 / capacity, per resource (0 when the node has none of it). */
  maxInverseCpu: number;
  maxInverseMemory: number;
  minInverseCpu: number;
  minInverseMemory: number;
  /**
   * E-PVM's pressure (LIEB^load, see epvm.ts) of cpu and of memory mixed with weight k/4 on cpu:
   * (k/4)·p(cpu) + (1 − k/4)·p(memory), least and most over the classes. Any other weight lies between
   * two of these, so its least is at least the matching mix of theirs: a bound as tight as the classes.
   * Kept by orders by task count (E-PVM's) only; 0 in orders by fill.
   */
  minMix0: number;
  minMix1: number;
  minMix2: number;
  minMix3: number;
  minMix4: number;
  maxMix0: number;
  maxMix1: number;
  maxMix2: number;
  maxMix3: number;
  maxMix4: number;
  minTasks: number;
  maxTasks: number;
  /** Fewest replicas of the group being placed on a node (always 0 in the cluster's own order). */
  minHolds: number;
}

/**
 * What an order sorts classes by first: `fill`, the allocated fraction of cpu plus that of memory
 * (binpack's score grows with it), or `tasks`, the task count (E-PVM's cost is dominated by it).
 */
export type OrderKey = "fill" | "tasks";

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

function hashIn(h: number, value: number): number {
  bits[0] = value;
  h = Math.imul(h ^ (words[0] as number), 0x9e3779b1);
  h = Math.imul(h ^ (words[1] as number), 0x85ebca6b);
  return h ^ (h >>> 15);
}

/** A hash of everything a class is told apart by, for the order's map and the treap's priorities. */
export function classHash({ node: { capacity }, allocated, taskCount }: NodeUsage, holds: number): number {
  const h = hashIn(hashIn(hashIn(hashIn(0x2545f491, capacity.cpu), capacity.memory), allocated.cpu), allocated.memory);
  return hashIn(hashIn(h, taskCount), holds) >>> 0;
}

/** Room for cpu and memory together, in cores, for tasks asking `ratio` MiB per core (see ClassRange). */
export function room(cores: number, mebibytes: number, ratio: number): number {
  return Math.min(cores, mebibytes / ratio);
}

/**
 * Nodes with capacities within a quarter octave (about a fifth) of each other, in cpu and in memory,
 * share a shape. An order keeps each shape's classes together, so within a subtree 1 / capacity, which
 * a task's share of a node (and so the bounds on its score) depends on, barely varies: in a cluster of
 * many machine sizes, the classes of each size are searched on their own.
 */
function shapeOf(cpu: number, memory: number): number {
  const quarterOctave = (n: number) => (n > 0 ? Math.floor(4 * Math.log2(n)) : -1_000);
  return quarterOctave(cpu) * 4_096 + quarterOctave(memory);
}

const inverse = (capacity: number) => (capacity > 0 ? 1 / capacity : 0);
const fraction = (used: number, capacity: number) => (capacity > 0 ? used / capacity : 1);

/**
 * Nodes alike in all the resource scores read: cpu and memory capacity and allocation, task count,
 * and replicas of the group being placed. A plugin marked `byClass` scores every member as it scores
 * one, and a task fits the cpu and memory of all or none. Disk, which no score reads, is left out, so
 * nodes that differ only in disk are one class (and no tie between them needs a search of many
 * classes); a search checks each node's disk with the other filters. Members are kept sorted by ring hash (then id), so the one that wins a tie is found by a
 * binary search. A class is also a node of its order's treap (see `precedes`) and holds the
 * ClassRange of its subtree. The numbers are copied: the members' usages change under it, and the
 * order then moves them to another class.
 */
export class CapacityClass implements ClassRange {
  readonly cpu: number;
  readonly memory: number;
  readonly usedCpu: number;
  readonly usedMemory: number;
  readonly tasks: number;
  readonly fill: number;
  /** What the order sorts by first (see `shapeOf`), then (see OrderKey). */
  readonly shape: number;
  readonly rank: number;
  members: Member[] = [];
  /** Counts the members' comings and goings, for what is known of them to be checked. */
  changes = 0;
  left: CapacityClass | null = null;
  right: CapacityClass | null = null;
  /** The next class with the same hash, in the order's map. */
  next: CapacityClass | null = null;
  /** The class's own range (its subtree's when it has no children). */
  private readonly own: Readonly<ClassRange>;
  /** Whether the class keeps the pressure mixes (in an order by task count). */
  private readonly mixed: boolean;
  maxFreeCpu = 0;
  maxFreeMemory = 0;
  maxRoom128 = 0;
  maxRoom512 = 0;
  maxRoom2048 = 0;
  maxRoom8192 = 0;
  maxFill = 0;
  maxInverseCpu = 0;
  maxInverseMemory = 0;
  minInverseCpu = 0;
  minInverseMemory = 0;
  minMix0 = 0;
  minMix1 = 0;
  minMix2 = 0;
  minMix3 = 0;
  minMix4 = 0;
  maxMix0 = 0;
  maxMix1 = 0;
  maxMix2 = 0;
  maxMix3 = 0;
  maxMix4 = 0;
  minTasks = 0;
  maxTasks = 0;
  minHolds = 0;

  constructor(
    { node: { capacity }, allocated, taskCount }: NodeUsage,
    readonly holds: number,
    readonly hash: number,
    key: OrderKey,
  ) {
    this.cpu = capacity.cpu;
    this.memory = capacity.memory;
    this.usedCpu = allocated.cpu;
    this.usedMemory = allocated.memory;
    this.tasks = taskCount;
    this.fill = fraction(allocated.cpu, capacity.cpu) + fraction(allocated.memory, capacity.memory);
    this.shape = shapeOf(capacity.cpu, capacity.memory);
    this.rank = key === "fill" ? this.fill : taskCount;
    // As the resource filter computes it, so a range check and the filter agree to the last bit.
    const freeCpu = capacity.cpu - allocated.cpu;
    const freeMemory = capacity.memory - allocated.memory;
    this.mixed = key === "tasks";
    const cpuPressure = this.mixed ? pressure(load(allocated.cpu, capacity.cpu)) : 0;
    const memoryPressure = this.mixed ? pressure(load(allocated.memory, capacity.memory)) : 0;
    const blend = (k: number) => (k / 4) * cpuPressure + (1 - k / 4) * memoryPressure;
    this.own = {
      maxFreeCpu: freeCpu,
      maxFreeMemory: freeMemory,
      maxRoom128: room(freeCpu, freeMemory, 128),
      maxRoom512: room(freeCpu, freeMemory, 512),
      maxRoom2048: room(freeCpu, freeMemory, 2048),
      maxRoom8192: room(freeCpu, freeMemory, 8192),
      maxFill: this.fill,
      maxInverseCpu: inverse(capacity.cpu),
      maxInverseMemory: inverse(capacity.memory),
      minInverseCpu: inverse(capacity.cpu),
      minInverseMemory: inverse(capacity.memory),
      minMix0: blend(0),
      minMix1: blend(1),
      minMix2: blend(2),
      minMix3: blend(3),
      minMix4: blend(4),
      maxMix0: blend(0),
      maxMix1: blend(1),
      maxMix2: blend(2),
      maxMix3: blend(3),
      maxMix4: blend(4),
      minTasks: taskCount,
      maxTasks: taskCount,
      minHolds: holds,
    };
    this.pull();
  }

  /** Whether the usage (with this many replicas of the group) belongs here. */
  matches({ node: { capacity }, allocated, taskCount }: NodeUsage, holds: number): boolean {
    return (
      this.cpu === capacity.cpu &&
      this.memory === capacity.memory &&
      this.usedCpu === allocated.cpu &&
      this.usedMemory === allocated.memory &&
      this.tasks === taskCount &&
      this.holds === holds
    );
  }

  /** Index of the first member at or after this ring hash (and id), members.length when there is none. */
  seek(ring: number, id = ""): number {
    const members = this.members;
    let lo = 0;
    let hi = members.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = members[mid] as Member;
      if (m.ring < ring || (m.ring === ring && m.usage.node.id < id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  admit(member: Member): void {
    this.members.splice(this.seek(member.ring, member.usage.node.id), 0, member);
    this.changes++;
  }

  dismiss(member: Member): void {
    this.members.splice(this.seek(member.ring, member.usage.node.id), 1);
    this.changes++;
  }

  /** Recomputes the subtree's range from the class's own and its children's (called on every change below it: kept lean). */
  pull(): void {
    const own = this.own;
    this.maxFreeCpu = own.maxFreeCpu;
    this.maxFreeMemory = own.maxFreeMemory;
    this.maxRoom128 = own.maxRoom128;
    this.maxRoom512 = own.maxRoom512;
    this.maxRoom2048 = own.maxRoom2048;
    this.maxRoom8192 = own.maxRoom8192;
    this.maxFill = own.maxFill;
    this.maxInverseCpu = own.maxInverseCpu;
    this.maxInverseMemory = own.maxInverseMemory;
    this.minInverseCpu = own.minInverseCpu;
    this.minInverseMemory = own.minInverseMemory;
    this.minTasks = own.minTasks;
    this.maxTasks = own.maxTasks;
    this.minHolds = own.minHolds;
    if (this.left) this.absorb(this.left);
    if (this.right) this.absorb(this.right);
    if (this.mixed) this.pullMixes();
  }

  private absorb(child: ClassRange): void {
    if (child.maxFreeCpu > this.maxFreeCpu) this.maxFreeCpu = child.maxFreeCpu;
    if (child.maxFreeMemory > this.maxFreeMemory) this.maxFreeMemory = child.maxFreeMemory;
    if (child.maxRoom128 > this.maxRoom128) this.maxRoom128 = child.maxRoom128;
    if (child.maxRoom512 > this.maxRoom512) this.maxRoom512 = child.maxRoom512;
    if (child.maxRoom2048 > this.maxRoom2048) this.maxRoom2048 = child.maxRoom2048;
    if (child.maxRoom8192 > this.maxRoom8192) this.maxRoom8192 = child.maxRoom8192;
    if (child.maxFill > this.maxFill) this.maxFill = child.maxFill;
    if (child.maxInverseCpu > this.maxInverseCpu) this.maxInverseCpu = child.maxInverseCpu;
    if (child.maxInverseMemory > this.maxInverseMemory) this.maxInverseMemory = child.maxInverseMemory;
    if (child.minInverseCpu < this.minInverseCpu) this.minInverseCpu = child.minInverseCpu;
    if (child.minInverseMemory < this.minInverseMemory) this.minInverseMemory = child.minInverseMemory;
    if (child.minTasks < this.minTasks) this.minTasks = child.minTasks;
    if (child.maxTasks > this.maxTasks) this.maxTasks = child.maxTasks;
    if (child.minHolds < this.minHolds) this.minHolds = child.minHolds;
  }

  private pullMixes(): void {
    const { own, left, right } = this;
    this.minMix0 = Math.min(own.minMix0, left ? left.minMix0 : Infinity, right ? right.minMix0 : Infinity);
    this.minMix1 = Math.min(own.minMix1, left ? left.minMix1 : Infinity, right ? right.minMix1 : Infinity);
    this.minMix2 = Math.min(own.minMix2, left ? left.minMix2 : Infinity, right ? right.minMix2 : Infinity);
    this.minMix3 = Math.min(own.minMix3, left ? left.minMix3 : Infinity, right ? right.minMix3 : Infinity);
    this.minMix4 = Math.min(own.minMix4, left ? left.minMix4 : Infinity, right ? right.minMix4 : Infinity);
    this.maxMix0 = Math.max(own.maxMix0, left ? left.maxMix0 : -Infinity, right ? right.maxMix0 : -Infinity);
    this.maxMix1 = Math.max(own.maxMix1, left ? left.maxMix1 : -Infinity, right ? right.maxMix1 : -Infinity);
    this.maxMix2 = Math.max(own.maxMix2, left ? left.maxMix2 : -Infinity, right ? right.maxMix2 : -Infinity);
    this.maxMix3 = Math.max(own.maxMix3, left ? left.maxMix3 : -Infinity, right ? right.maxMix3 : -Infinity);
    this.maxMix4 = Math.max(own.maxMix4, left ? left.maxMix4 : -Infinity, right ? right.maxMix4 : -Infinity);
  }
}

/**
 * The treap's order, total and the same whatever order the classes came in: larger shapes first, then
 * emptiest first by rank, then by fill, larger capacity first, and the numbers that tell classes
 * apart. Where shapes or capacities differ, the nodes each search prefers come first in its own
 * direction: binpack, searching fullest first (from the end), meets the smaller nodes first, where a
 * task is the larger share; E-PVM, searching emptiest first, the larger ones, where it costs the least.
 */
export function precedes(a: CapacityClass, b: CapacityClass): boolean {
  if (a.shape !== b.shape) return a.shape > b.shape;
  if (a.rank !== b.rank) return a.rank < b.rank;
  if (a.fill !== b.fill) return a.fill < b.fill;
  if (a.cpu !== b.cpu) return a.cpu > b.cpu;
  if (a.memory !== b.memory) return a.memory > b.memory;
  if (a.usedCpu !== b.usedCpu) return a.usedCpu < b.usedCpu;
  if (a.usedMemory !== b.usedMemory) return a.usedMemory < b.usedMemory;
  if (a.tasks !== b.tasks) return a.tasks < b.tasks;
  return a.holds < b.holds;
}
