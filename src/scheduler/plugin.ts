import type { Resources } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { PlacementRequest } from "./types.ts";

/** A node with what is already allocated on it: the scheduler's working copy, updated as it places. */
export interface NodeUsage {
  node: Node;
  allocated: Resources;
  /** Static host ports already reserved on the node. */
  ports: Set<number>;
  /** Live tasks per job and group (see `groupKey`). */
  groups: Map<string, number>;
  taskCount: number;
}

/** A job or group constraint, parsed once per call so regexes and version ranges are not rebuilt per node. */
export interface CompiledConstraint {
  reason: string;
  holds(usage: NodeUsage, groupKey: string): boolean;
}

/** Everything about the request that plugins need, derived once per call. */
export interface PlacementContext {
  request: PlacementRequest;
  groupKey: string;
  /** Replicas of this group the job wants in all. */
  desiredCount: number;
  targets: ReadonlySet<string> | null;
  constraints: readonly CompiledConstraint[];
  reservedPorts: Record<string, number>;
}

/** A feasibility check: null when the node passes, else the reason people read. */
export type Filter = (usage: NodeUsage, ctx: PlacementContext) => string | null;

export interface ScorePlugin {
  name: string;
  weight: number;
  /** A raw score: 0–100 (higher is better) unless `normalize` maps the candidates' raw scores onto 0–100. */
  score(usage: NodeUsage, ctx: PlacementContext): number;
  normalize?: (raw: number[]) => number[];
}
