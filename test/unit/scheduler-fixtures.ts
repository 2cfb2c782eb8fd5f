import type { JobSpec, Resources, TaskSpec } from "../../src/model/job.ts";
import type { Node } from "../../src/model/node.ts";
import { placeTasks, type Algorithm, type ClusterSnapshot, type PlacementRequest, type PlacementResult } from "../../src/scheduler/index.ts";
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

/** Names of the nodes that passed every filter for the first replica. */
export function feasible(result: PlacementResult): string[] {
  return (result.placements[0]?.candidates ?? []).map((c) => c.nodeName).sort();
}
