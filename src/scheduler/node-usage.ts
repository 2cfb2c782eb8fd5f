import type { Resources } from "../model/job.ts";
import type { NodeUsage } from "./plugin.ts";
import type { ClusterSnapshot } from "./types.ts";

/** Job names cannot contain "/", so this key is unique per job and group. */
export function groupKey(job: string, group: string): string {
  return `${job}/${group}`;
}

/** Per-node allocations from the live tasks, built once per call (O(nodes + tasks)), sorted by node id. */
export function usageOf(cluster: ClusterSnapshot): NodeUsage[] {
  const byNode = new Map<string, NodeUsage>();
  for (const node of cluster.nodes) {
    byNode.set(node.id, { node, allocated: { cpu: 0, memory: 0, disk: 0 }, ports: new Set(), groups: new Map(), taskCount: 0 });
  }
  for (const task of cluster.tasks) {
    const usage = task.nodeId === null ? undefined : byNode.get(task.nodeId);
    if (usage) addTask(usage, groupKey(task.job, task.group), task.resources, Object.values(task.reservedPorts));
  }
  // Sorted so that the seeded shuffle, not the caller's order, decides ties.
  return [...byNode.values()].sort((a, b) => (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0));
}

export function addTask(usage: NodeUsage, key: string, resources: Resources, ports: readonly number[]): void {
  usage.allocated.cpu += resources.cpu;
  usage.allocated.memory += resources.memory;
  usage.allocated.disk += resources.disk;
  for (const port of ports) usage.ports.add(port);
  usage.groups.set(key, (usage.groups.get(key) ?? 0) + 1);
  usage.taskCount++;
}
