import type { Resources } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { SpreadTally } from "./spread-tally.ts";
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
  /** True when only the node decides (not what runs on it, as with distinct_hosts). */
  onNodeOnly: boolean;
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
  /** Host ports of `reservedPorts`, as a list (what a placement adds to its node). */
  hostPorts: readonly number[];
  /** The job's and the group's spreads, with replicas counted per attribute value. */
  spreads: readonly SpreadTally[];
  /** A group with named volumes: the node its first replica of this call went to, where the others follow. */
  volumeNode: string | null;
}

/**
 * A feasibility check. `passes` runs on every node a scan visits, so it is cheap and allocates
 * nothing; `reason`, the text people read, is asked only of nodes that did not pass.
 */
export interface Filter {
  passes(usage: NodeUsage, ctx: PlacementContext): boolean;
  reason(usage: NodeUsage, ctx: PlacementContext): string;
}

export interface ScorePlugin {
  name: string;
  weight: number;
  /** A raw score: 0–100 (higher is better) unless `normalize` maps the candidates' raw scores onto 0–100. */
  score(usage: NodeUsage, ctx: PlacementContext): number;
  normalize?: (raw: number[]) => number[];
}
