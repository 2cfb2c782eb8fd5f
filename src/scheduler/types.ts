import type { JobSpec, TaskSpec } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { Task } from "../model/task.ts";

export type Algorithm = "binpack" | "spread" | "epvm" | "round-robin";

/** What the scheduler sees of the cluster; the caller builds it from the store. */
export interface ClusterSnapshot {
  nodes: Node[];
  /** Live (non-terminal, non-lost) tasks that hold resources, each with its node id set. */
  tasks: Pick<Task, "id" | "job" | "group" | "nodeId" | "resources" | "reservedPorts">[];
}

export interface PlacementRequest {
  job: JobSpec;
  /** One of `job.tasks`. */
  group: TaskSpec;
  /** Replica slots to place, e.g. [0, 1, 2]. */
  indexes: number[];
  algorithm: Algorithm;
  /** Same seed and input, same result: a placement can be replayed (the caller passes e.g. the evaluation id). */
  seed: string;
  /** System jobs: only these node ids are allowed; undefined means any node. */
  onlyNodes?: string[];
}

export interface NodeScore {
  nodeId: string;
  nodeName: string;
  /** Weighted average of `byPlugin`, 0–100, rounded to 2 decimals. */
  total: number;
  byPlugin: Record<string, number>;
}

export interface Placement {
  index: number;
  nodeId: string;
  /** Static host ports reserved for this task (port name → host port). */
  reservedPorts: Record<string, number>;
  score: NodeScore;
  /** Every feasible node, in the seeded order the scheduler considered them. */
  candidates: NodeScore[];
}

export interface PlacementFailure {
  index: number;
  /** Reason → how many nodes were rejected for it. */
  reasons: Record<string, number>;
  rejected: { nodeId: string; nodeName: string; reason: string }[];
}

export interface PlacementResult {
  placements: Placement[];
  failures: PlacementFailure[];
}
