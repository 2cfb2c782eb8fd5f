import type { Resources } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { NodeUsage } from "./plugin.ts";

/** Job names cannot contain "/", so this key is unique per job and group. */
export function groupKey(job: string, group: string): string {
  return `${job}/${group}`;
}

export function emptyUsage(node: Node): NodeUsage {
  return { node, allocated: { cpu: 0, memory: 0, disk: 0 }, ports: new Set(), groups: new Map(), taskCount: 0 };
}

/** A copy the scheduler may change without touching the original (copy on write during one call). */
export function copyUsage(usage: NodeUsage): NodeUsage {
  return { node: usage.node, allocated: { ...usage.allocated }, ports: new Set(usage.ports), groups: new Map(usage.groups), taskCount: usage.taskCount };
}

export function addTask(usage: NodeUsage, key: string, resources: Resources, ports: readonly number[]): void {
  usage.allocated.cpu += resources.cpu;
  usage.allocated.memory += resources.memory;
  usage.allocated.disk += resources.disk;
  for (const port of ports) usage.ports.add(port);
  usage.groups.set(key, (usage.groups.get(key) ?? 0) + 1);
  usage.taskCount++;
}
