import { FILTERS, SCORERS } from "./algorithms.ts";
import { seededRandom, seededShuffle } from "./seeded-random.ts";
import type { ClusterSnapshot, NodeScore, NodeUsage, PlacementContext, PlacementFailure, PlacementRequest, PlacementResult, ScorePlugin } from "./types.ts";

function groupKeyOf(job: string, group: string): string {
  return `${job}/${group}`;
}

/** Per-node allocations from the live tasks, built once per call: O(nodes + tasks). */
function usageOf(cluster: ClusterSnapshot): NodeUsage[] {
  const byNode = new Map<string, NodeUsage>();
  for (const node of cluster.nodes) {
    byNode.set(node.id, { node, allocated: { cpu: 0, memory: 0, disk: 0 }, ports: new Set(), groups: new Map(), taskCount: 0 });
  }
  for (const task of cluster.tasks) {
    const usage = task.nodeId ? byNode.get(task.nodeId) : undefined;
    if (usage) addTask(usage, groupKeyOf(task.job, task.group), task.resources, Object.values(task.reservedPorts));
  }
  return [...byNode.values()];
}

function addTask(usage: NodeUsage, groupKey: string, resources: { cpu: number; memory: number; disk: number }, ports: number[]): void {
  usage.allocated.cpu += resources.cpu;
  usage.allocated.memory += resources.memory;
  usage.allocated.disk += resources.disk;
  for (const p of ports) usage.ports.add(p);
  usage.groups.set(groupKey, (usage.groups.get(groupKey) ?? 0) + 1);
  usage.taskCount++;
}

/**
 * Places replicas of one task group: filter (with a reason for every rejected node), score with the
 * algorithm's plugins, pick the best; ties go to the first in a node order shuffled from the seed.
 * Pure: no I/O, no clock, no global randomness, and the input is never mutated.
 * @example placeTasks({ job, group, indexes: [0, 1, 2], algorithm: "binpack", seed: "eval-1" }, { nodes, tasks: [] })
 */
export function placeTasks(request: PlacementRequest, cluster: ClusterSnapshot): PlacementResult {
  const ordered = usageOf(cluster).sort((a, b) => (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0));
  const nodes = seededShuffle(ordered, seededRandom(request.seed));
  const ctx: PlacementContext = { request, groupKey: groupKeyOf(request.job.name, request.group.name), desiredCount: request.group.count };
  const scorers = SCORERS[request.algorithm];
  const result: PlacementResult = { placements: [], failures: [] };

  for (const index of request.indexes) {
    const candidates: NodeUsage[] = [];
    const failure: PlacementFailure = { index, reasons: {}, rejected: [] };
    for (const usage of nodes) {
      let reason: string | null = null;
      for (const filter of FILTERS) if ((reason = filter(usage, ctx)) !== null) break;
      if (reason === null) candidates.push(usage);
      else {
        failure.reasons[reason] = (failure.reasons[reason] ?? 0) + 1;
        failure.rejected.push({ nodeId: usage.node.id, nodeName: usage.node.name, reason });
      }
    }
    if (candidates.length === 0) {
      result.failures.push(failure);
      continue;
    }
    const scores = scoreCandidates(candidates, ctx, scorers);
    let best = 0;
    for (let i = 1; i < scores.length; i++) if ((scores[i] as NodeScore).total > (scores[best] as NodeScore).total) best = i;
    const chosen = candidates[best] as NodeUsage;
    const reservedPorts = Object.fromEntries(request.group.ports.filter((p) => p.host !== undefined).map((p) => [p.name, p.host as number]));
    addTask(chosen, ctx.groupKey, request.group.resources, Object.values(reservedPorts));
    result.placements.push({ index, nodeId: chosen.node.id, reservedPorts, score: scores[best] as NodeScore, candidates: scores });
  }
  return result;
}

function scoreCandidates(candidates: NodeUsage[], ctx: PlacementContext, scorers: readonly ScorePlugin[]): NodeScore[] {
  const perPlugin = scorers.map((plugin) => {
    const raw = candidates.map((c) => plugin.score(c, ctx));
    return plugin.normalize ? plugin.normalize(raw) : raw;
  });
  const totalWeight = scorers.reduce((sum, p) => sum + p.weight, 0) || 1;
  return candidates.map((c, i) => {
    const byPlugin: Record<string, number> = {};
    let total = 0;
    scorers.forEach((plugin, j) => {
      const value = Math.round((perPlugin[j]?.[i] ?? 0) * 100) / 100;
      byPlugin[plugin.name] = value;
      total += value * plugin.weight;
    });
    return { nodeId: c.node.id, nodeName: c.node.name, total: Math.round((total / totalWeight) * 100) / 100, byPlugin };
  });
}

