import type { JobSpec, Resources, TaskSpec } from "../../src/model/job.ts";
import type { Node } from "../../src/model/node.ts";
import { CapacityClass, type ClassRange, type Member } from "../../src/scheduler/capacity-class.ts";
import type { CapacityOrder } from "../../src/scheduler/capacity-order.ts";
import { placeTasks, type Algorithm, type ClusterSnapshot, type PlacementRequest, type PlacementResult } from "../../src/scheduler/index.ts";
import type { NodeUsage } from "../../src/scheduler/plugin.ts";
import { makeJobSpec } from "./fixtures.ts";

export { makeNode } from "./fixtures.ts";

/** Enough seeds that an outcome reached by a lucky tie-break shows up as a failure. */
export const SEEDS = Array.from({ length: 8 }, (_, i) => `seed-${i}`);

/** A job with one task group named "http" (0.5 cores, 256 MiB, no disk by default). */
export function makeJob(name: string, group: Partial<TaskSpec> = {}, overrides: Partial<JobSpec> = {}): JobSpec {
  return makeJobSpec(name, [group], overrides);
}

let taskCounter = 0;

/** A live task of `job`'s group "http" holding resources on node `id-<nodeName>`. */
export function liveTask(job: string, nodeName: string, resources: Partial<Resources> = {}, reservedPorts: Record<string, number> = {}): ClusterSnapshot["tasks"][number] {
  taskCounter++;
  return { id: `t-${taskCounter}`, job, group: "http", nodeId: `id-${nodeName}`, resources: { cpu: 0.5, memory: 256, disk: 0, ...resources }, reservedPorts };
}

/** Places every replica of the job's first group (indexes 0..count-1 unless overridden). */
export function place(
  algorithm: Algorithm,
  job: JobSpec,
  nodes: Node[],
  tasks: ClusterSnapshot["tasks"] = [],
  overrides: Partial<PlacementRequest> = {},
): PlacementResult {
  const group = job.tasks[0] as TaskSpec;
  const indexes = Array.from({ length: group.count }, (_, i) => i);
  return placeTasks({ job, group, indexes, algorithm, seed: "seed", ...overrides }, { nodes, tasks });
}

/** Node names the replicas landed on, by index order. */
export function placedOn(result: PlacementResult): string[] {
  return result.placements.map((p) => p.score.nodeName);
}

/**
 * Names of the nodes that pass every filter for the job's first replica (an exhaustive pass scores
 * them all); throws if the algorithm's own pick is not one of them.
 */
export function feasible(algorithm: Algorithm, job: JobSpec, nodes: Node[]): string[] {
  const names = (place(algorithm, job, nodes, [], { exhaustive: true }).placements[0]?.candidates ?? []).map((c) => c.nodeName).sort();
  const [picked] = placedOn(place(algorithm, job, nodes, [], { indexes: [0] }));
  if (picked !== undefined && !names.includes(picked)) throw new Error(`${algorithm} picked ${picked}, not one of ${names.join(", ")}`);
  return names;
}

/** A capacity order as plain data: its classes in order, each with its numbers and members (node ids, in ring order). */
export function orderView(order: CapacityOrder) {
  return [...order.classes()].map((c) => ({
    rank: c.rank,
    shape: c.shape,
    capacity: [c.cpu, c.memory],
    used: [c.usedCpu, c.usedMemory],
    tasks: c.tasks,
    holds: c.holds,
    members: c.members.map((m) => m.usage.node.id),
  }));
}

const rangeKeys = (range: ClassRange) => Object.keys(range).filter((k) => k.startsWith("min") || k.startsWith("max")) as (keyof ClassRange)[];

/**
 * What is wrong with an order's treap, as text (none when it is sound): a class whose members do not
 * belong to it or are out of ring order, a child above its parent's priority, or a subtree's range
 * that differs from the one folded from its classes (each measured alone, as a new class of a member).
 */
export function treapErrors(order: CapacityOrder, holdsOf: (usage: NodeUsage) => number = () => 0): string[] {
  const errors: string[] = [];
  const walk = (at: CapacityClass | null): CapacityClass[] => {
    if (!at) return [];
    const classes = [...walk(at.left), at, ...walk(at.right)];
    for (const child of [at.left, at.right]) if (child && child.hash > at.hash) errors.push(`child ${child.hash} above parent ${at.hash}`);
    at.members.forEach((m, i) => {
      if (!at.matches(m.usage, holdsOf(m.usage))) errors.push(`${m.usage.node.id} is not like its class`);
      const next = at.members[i + 1];
      if (next && (next.ring < m.ring || (next.ring === m.ring && next.usage.node.id <= m.usage.node.id))) errors.push(`members out of ring order at ${m.usage.node.id}`);
    });
    const alone = classes.map((c) => new CapacityClass((c.members[0] as Member).usage, c.holds, c.hash, order.key));
    for (const key of rangeKeys(at)) {
      const values = alone.map((c) => c[key]);
      const expected = key.startsWith("min") ? Math.min(...values) : Math.max(...values);
      if (at[key] !== expected) errors.push(`${key} of subtree at ${at.hash}: ${at[key]}, folded ${expected}`);
    }
    return classes;
  };
  walk(order.root);
  return errors;
}
