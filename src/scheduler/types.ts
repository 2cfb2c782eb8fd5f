import type { JobSpec, Resources, TaskSpec } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { Task } from "../model/task.ts";

export type Algorithm = "binpack" | "spread" | "epvm" | "round-robin";

/** What the scheduler sees of the cluster; the caller builds it from the store. */
export interface ClusterSnapshot {
  nodes: Node[];
  /** Live tasks holding resources on a node. */
  tasks: Pick<Task, "id" | "job" | "group" | "nodeId" | "resources" | "reservedPorts">[];
}

export interface PlacementRequest {
  job: JobSpec;
  group: TaskSpec;
  /** Replica slots to place. */
  indexes: number[];
  algorithm: Algorithm;
  /** Same seed and input, same result: a placement can be replayed. */
  seed: string;
  /** System jobs pin each task to one node. */
  onlyNodes?: string[];
}

export interface NodeScore {
  nodeId: string;
  nodeName: string;
  total: number;
  byPlugin: Record<string, number>;
}

export interface Placement {
  index: number;
  nodeId: string;
  reservedPorts: Record<string, number>;
  score: NodeScore;
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

/** A node with what is already allocated on it; the scheduler's working copy, updated as it places. */
export interface NodeUsage {
  node: Node;
  allocated: Resources;
  ports: Set<number>;
  /** Live tasks per `job/group` on this node. */
  groups: Map<string, number>;
  taskCount: number;
}

/** What every plugin gets besides the node. */
export interface PlacementContext {
  request: PlacementRequest;
  groupKey: string;
  /** Replicas of this task group the job wants in all. */
  desiredCount: number;
}

/** A feasibility check: null when the node passes, else the reason people read. */
export type Filter = (usage: NodeUsage, ctx: PlacementContext) => string | null;

export interface ScorePlugin {
  name: string;
  weight: number;
  /** A raw score; 0–100 unless `normalize` maps the candidates' raw scores onto 0–100. */
  score(usage: NodeUsage, ctx: PlacementContext): number;
  normalize?: (raw: number[]) => number[];
}
