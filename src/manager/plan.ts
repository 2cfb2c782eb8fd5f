import type { PlannedGroup, PlannedTask, PlanResult, PlanScore } from "../model/api-types.ts";
import type { Job, JobSpec, TaskSpec } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import { type Task, taskName } from "../model/task.ts";
import { isGone } from "../model/task-state.ts";
import { type Algorithm, ClusterIndex, type Placement, type PlacementFailure, placeTasks, summarizeReasons } from "../scheduler/index.ts";
import { volumeHomes, volumePlacement } from "./volume-homes.ts";

/** Replicas per group planned in full (every node scored or rejected); later ones show only their node. */
export const PLAN_DETAIL = 10;

export interface PlanInput {
  spec: JobSpec;
  nodes: Node[];
  /** Every task the store has; live ones of other jobs hold resources. */
  tasks: Task[];
  /** The stored job of that name, if any. */
  existing: Job | null;
  /** The cluster's default (`--scheduler`). */
  algorithm: Algorithm;
}

const best = (a: PlanScore, b: PlanScore) => b.total - a.total;

function placedTask(job: string, group: string, p: Placement, detailed: boolean): PlannedTask {
  return {
    name: taskName({ job, group, index: p.index }),
    index: p.index,
    node: { id: p.nodeId, name: p.score.nodeName },
    score: p.score,
    candidates: detailed ? [...p.candidates].sort(best) : [],
    rejected: detailed ? (p.rejected ?? []) : [],
    reasons: {},
    failure: null,
    detailed,
  };
}

function failedTask(job: string, group: string, f: PlacementFailure, detailed: boolean): PlannedTask {
  return {
    name: taskName({ job, group, index: f.index }),
    index: f.index,
    node: null,
    score: null,
    candidates: [],
    rejected: detailed ? f.rejected : [],
    reasons: f.reasons,
    failure: `no node can run it: ${summarizeReasons(f.reasons) || "no nodes registered"}`,
    detailed,
  };
}

/** A system job runs on every node that passes the filters: one exhaustive pass says which, and why not the others. */
function planSystemGroup(spec: JobSpec, group: TaskSpec, algorithm: Algorithm, cluster: ClusterIndex): PlannedGroup {
  const result = placeTasks({ job: spec, group, indexes: [0], algorithm, seed: `plan/${spec.name}`, exhaustive: true }, cluster);
  const placement = result.placements[0];
  const failure = result.failures[0];
  const rejected = placement?.rejected ?? failure?.rejected ?? [];
  const tasks: PlannedTask[] = (placement?.candidates ?? []).map((score, index) => ({
    name: taskName({ job: spec.name, group: group.name, index }),
    index,
    node: { id: score.nodeId, name: score.nodeName },
    score,
    candidates: [score],
    rejected: [],
    reasons: {},
    failure: null,
    detailed: true,
  }));
  return { name: group.name, count: tasks.length, placed: tasks.length, tasks, rejected };
}

/**
 * Where each task of a job would go on the cluster as it is now, group after group as the reconciler
 * places them: the first PLAN_DETAIL replicas of a group with every node scored (by plugin) or rejected
 * (with why), the rest with their node only. A job that already exists is planned as if placed afresh:
 * its own live tasks are left out. Pure: reads its input, changes nothing.
 * @example planJob({ spec, nodes, tasks, existing: null, algorithm: "binpack" }).groups[0].tasks[0].node?.name // "dev-2"
 */
export function planJob({ spec, nodes, tasks, existing, algorithm: clusterDefault }: PlanInput): PlanResult {
  const algorithm = spec.scheduler ?? clusterDefault;
  const live = tasks.filter((t) => t.nodeId !== null && !isGone(t.state) && t.job !== spec.name);
  const cluster = ClusterIndex.of({ nodes, tasks: live });
  // A job's volumes stay where they are: its tasks are planned there (read with the planned spec's mounts).
  const mounts = new Map(spec.tasks.map((g) => [g.name, g.volumes?.map((v) => v.name) ?? []]));
  const homes = volumeHomes(
    tasks.filter((t) => t.job === spec.name),
    (t) => mounts.get(t.group) ?? [],
  );
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const groups = spec.tasks.map((group): PlannedGroup => {
    if (spec.type === "system") return planSystemGroup(spec, group, algorithm, cluster);
    const indexes = Array.from({ length: group.count }, (_, i) => i);
    const seed = `plan/${spec.name}/${group.name}`;
    const volumeOn = volumePlacement(spec.name, group, homes, (id) => byId.get(id)).limit ?? undefined;
    const planned: PlannedTask[] = [];
    const parts = [
      { indexes: indexes.slice(0, PLAN_DETAIL), exhaustive: true },
      { indexes: indexes.slice(PLAN_DETAIL), exhaustive: false },
    ];
    for (const part of parts) {
      if (part.indexes.length === 0) continue;
      const result = placeTasks({ job: spec, group, indexes: part.indexes, algorithm, seed, exhaustive: part.exhaustive, ...(volumeOn ? { volumeOn } : {}) }, cluster);
      for (const p of result.placements) {
        planned.push(placedTask(spec.name, group.name, p, part.exhaustive));
        cluster.add({ id: `plan-${group.name}-${p.index}`, job: spec.name, group: group.name, nodeId: p.nodeId, resources: group.resources, reservedPorts: p.reservedPorts });
      }
      for (const f of result.failures) planned.push(failedTask(spec.name, group.name, f, part.exhaustive));
    }
    planned.sort((a, b) => a.index - b.index);
    return { name: group.name, count: group.count, placed: planned.filter((t) => t.node !== null).length, tasks: planned };
  });
  return { job: spec.name, algorithm, existingVersion: existing?.version ?? null, nodes: nodes.length, groups };
}
