import type { Resources } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { ClassRange } from "./capacity-class.ts";
import type { AttributeReader } from "./filters/node-attribute.ts";
import type { SpreadTally } from "./spread-tally.ts";
import type { PlacementRequest } from "./types.ts";

/** A node with what is already allocated on it: the scheduler's working copy, updated as it places. */
/** What the scheduler reads and adds of a node's task counts per group: a Map, or a call's overlay on one (see `copyUsage`). */
export interface GroupCounts {
  get(key: string): number | undefined;
  has(key: string): boolean;
  set(key: string, count: number): void;
}

export interface NodeUsage {
  node: Node;
  allocated: Resources;
  /** Static host ports already reserved on the node. */
  ports: Set<number>;
  /** Live tasks per job and group (see `groupKey`). */
  groups: GroupCounts;
  taskCount: number;
}

/** A job or group constraint, parsed once per call so regexes and version ranges are not rebuilt per node. */
export interface CompiledConstraint {
  reason: string;
  holds(usage: NodeUsage, groupKey: string): boolean;
  /** True when only the node decides (not what runs on it, as with distinct_hosts). */
  onNodeOnly: boolean;
  /** True when no node may hold two replicas of the group (distinct_hosts). */
  onePerNode: boolean;
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
  /** A raw score: 0–100 (higher is better) unless `normalized`. */
  score(usage: NodeUsage, ctx: PlacementContext): number;
  /** Raw scores are mapped linearly onto 0–100 over the candidates (see `normalize`). */
  normalized?: boolean;
  /**
   * The score reads only what the nodes of a capacity class share (capacity, allocation, task count,
   * replicas of the group), so one member's score is every member's (see CapacityClass).
   */
  byClass?: boolean;
  /** The score reads one attribute of the node and nothing else (a search bounds a class by the values its nodes have). */
  byAttribute?: { read: AttributeReader; scoreOf(value: string | undefined): number };
  /** At least the raw score of any node in classes with this range (a search skips what cannot win); without it, 100. */
  upper?: (range: ClassRange, ctx: PlacementContext) => number;
  /** At most the raw score of any node in classes with this range: a search finds a normalized plugin's range with it and `upper`. */
  lower?: (range: ClassRange, ctx: PlacementContext) => number;
}
