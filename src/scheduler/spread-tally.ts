import type { JobSpec, Spread, TaskSpec } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import { type AttributeReader, attributeReader } from "./filters/node-attribute.ts";
import type { ClusterIndex } from "./cluster-index.ts";
import type { NodeUsage } from "./plugin.ts";

/** Replicas of the group being placed per value of one spread attribute, kept current as a call places. */
export interface SpreadTally {
  attribute: string;
  /** 0–100, from the job file. */
  weight: number;
  read: AttributeReader;
  /** Every value still worth evening out (see `tallySpreads`) → replicas of the group on nodes with it. */
  counts: Map<string, number>;
  fewest: number;
  most: number;
}

/** The job's spreads with the group's own; a group's spread on an attribute replaces the job's on it. */
export function spreadsOf(job: JobSpec, group: TaskSpec): Spread[] {
  const own = group.spread ?? [];
  return [...(job.spread ?? []).filter((s) => !own.some((o) => o.attribute === s.attribute)), ...own];
}

/**
 * Counts the group's live replicas per attribute value (over all nodes), keeping the values of the
 * nodes that could take the group were they empty (`qualifies`: ready, eligible, in the job's
 * datacenters, meeting its constraints): those are what the replicas are spread over. O(nodes), with
 * `qualifies` asked only until each value has one node that qualifies.
 */
export function tallySpreads(spreads: readonly Spread[], cluster: ClusterIndex, key: string, qualifies: (usage: NodeUsage) => boolean): SpreadTally[] {
  return spreads.map(({ attribute, weight }) => {
    const read = attributeReader(attribute);
    const values = cluster.valuesOf(attribute, read);
    const counts = new Map<string, number>();
    values.forEach((value, position) => {
      if (value !== undefined && !counts.has(value) && qualifies(cluster.usages[position] as NodeUsage)) counts.set(value, 0);
    });
    for (const [position, replicas] of cluster.nodesOf(key)) {
      const value = values[position];
      const n = value === undefined ? undefined : counts.get(value);
      if (n !== undefined) counts.set(value as string, n + replicas);
    }
    const tally: SpreadTally = { attribute, weight, read, counts, fewest: 0, most: 0 };
    updateBounds(tally);
    return tally;
  });
}

function updateBounds(tally: SpreadTally): void {
  let fewest = Number.POSITIVE_INFINITY;
  let most = 0;
  for (const n of tally.counts.values()) {
    if (n < fewest) fewest = n;
    if (n > most) most = n;
  }
  tally.fewest = fewest === Number.POSITIVE_INFINITY ? 0 : fewest;
  tally.most = most;
}

/** A replica was placed on `node`. */
export function countPlacement(tallies: readonly SpreadTally[], node: Node): void {
  for (const tally of tallies) {
    const value = tally.read(node);
    const n = value === undefined ? undefined : tally.counts.get(value);
    if (value === undefined || n === undefined) continue;
    tally.counts.set(value, n + 1);
    updateBounds(tally);
  }
}

/**
 * After a scan of every node: a value none of the feasible nodes has cannot get a replica in this call
 * (nodes only fill up as it places), so it stops counting as the one with the fewest.
 */
export function narrowTallies(tallies: readonly SpreadTally[], feasible: readonly NodeUsage[]): void {
  for (const tally of tallies) {
    const seen = new Set<string>();
    for (const usage of feasible) {
      const value = tally.read(usage.node);
      if (value !== undefined) seen.add(value);
    }
    if (seen.size < tally.counts.size) dropValues(tally, [...tally.counts.keys()].filter((value) => !seen.has(value)));
  }
}

/** Values no feasible node has any more: the call cannot place a replica there, so they stop counting as the fewest or the most. */
export function dropValues(tally: SpreadTally, values: readonly string[]): void {
  for (const value of values) tally.counts.delete(value);
  updateBounds(tally);
}

/** True when the node's value holds the fewest replicas, so no other node can score better on this spread. */
export function holdsFewest(tally: SpreadTally, node: Node): boolean {
  if (tally.counts.size === 0) return true;
  const value = tally.read(node);
  return value !== undefined && tally.counts.get(value) === tally.fewest;
}
