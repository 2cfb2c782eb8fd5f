import type { Resources } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { GroupCounts, NodeUsage } from "./plugin.ts";

/** Job names cannot contain "/", so this key is unique per job and group. */
export function groupKey(job: string, group: string): string {
  return `${job}/${group}`;
}

/** A node's usage as the cluster index keeps it: its group counts are a Map of their own. */
export interface IndexedUsage extends NodeUsage {
  groups: Map<string, number>;
}

export function emptyUsage(node: Node): IndexedUsage {
  return { node, allocated: { cpu: 0, memory: 0, disk: 0 }, ports: new Set(), groups: new Map(), taskCount: 0 };
}

/**
 * A call's counts for one node: what the call placed there over the cluster's counts, which stay as
 * they are. A node holds a count for every group with tasks on it, so copying them per placement cost
 * more than the placement.
 */
class GroupOverlay implements GroupCounts {
  private readonly own = new Map<string, number>();

  constructor(private readonly base: GroupCounts) {}

  get(key: string): number | undefined {
    return this.own.get(key) ?? this.base.get(key);
  }

  has(key: string): boolean {
    return this.own.has(key) || this.base.has(key);
  }

  set(key: string, count: number): void {
    this.own.set(key, count);
  }
}

/** A copy the scheduler may change without touching the original (copy on write during one call). */
export function copyUsage(usage: NodeUsage): NodeUsage {
  return { node: usage.node, allocated: { ...usage.allocated }, ports: new Set(usage.ports), groups: new GroupOverlay(usage.groups), taskCount: usage.taskCount };
}

export function addTask(usage: NodeUsage, key: string, resources: Resources, ports: readonly number[]): void {
  usage.allocated.cpu += resources.cpu;
  usage.allocated.memory += resources.memory;
  usage.allocated.disk += resources.disk;
  for (const port of ports) usage.ports.add(port);
  usage.groups.set(key, (usage.groups.get(key) ?? 0) + 1);
  usage.taskCount++;
}
