import type { JobSpec, SchedulerAlgorithm, TaskSpec } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { Task } from "../model/task.ts";

/** The job file's `scheduler:` and the manager's `--scheduler` name the same algorithms. */
export type Algorithm = SchedulerAlgorithm;

/** A live task as the scheduler sees it: what it holds, and where. */
export type LiveTask = Pick<Task, "id" | "job" | "group" | "nodeId" | "resources" | "reservedPorts">;

/** What the scheduler sees of the cluster; the caller builds it from the store. */
export interface ClusterSnapshot {
  nodes: Node[];
  /** Live (non-terminal, non-lost) tasks that hold resources, each with its node id set. */
  tasks: LiveTask[];
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
  /** The group's image is one no registry supplies: only these nodes have it; `reason` says why the others are turned away. */
  imageOn?: { nodes: ReadonlySet<string>; reason: string };
  /** The group's named volumes live on a node: only there, and why the others are turned away. */
  volumeOn?: { nodes: ReadonlySet<string>; reason: string };
  /**
   * Filter and score every node and record why each rejected one was turned away (for `plan`).
   * Otherwise binpack and E-PVM search for the node this would pick (the same node and score, see
   * BestFit), and spread and round-robin score a bounded number of feasible nodes per replica (see
   * `candidateLimit`); a replica that fits nowhere is always explained from every node.
   */
  exhaustive?: boolean;
}

export interface NodeScore {
  nodeId: string;
  nodeName: string;
  /** Weighted average of `byPlugin`, 0–100, rounded to 2 decimals. */
  total: number;
  byPlugin: Record<string, number>;
}

export interface Rejection {
  nodeId: string;
  nodeName: string;
  reason: string;
}

export interface Placement {
  index: number;
  nodeId: string;
  /** Static host ports reserved for this task (port name → host port). */
  reservedPorts: Record<string, number>;
  score: NodeScore;
  /**
   * Feasible nodes with their scores: all of them in exhaustive mode, in the seeded order; a scan's
   * sample, in the order it met them; or, for a search, the nodes that led when it met them (the last
   * is the pick).
   */
  candidates: NodeScore[];
  /** Exhaustive mode only: every node the filters turned away, with why. */
  rejected?: Rejection[];
}

export interface PlacementFailure {
  index: number;
  /** Reason → how many nodes were rejected for it. */
  reasons: Record<string, number>;
  rejected: Rejection[];
}

export interface PlacementResult {
  placements: Placement[];
  failures: PlacementFailure[];
}
