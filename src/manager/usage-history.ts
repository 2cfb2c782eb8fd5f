import type { Node } from "../model/node.ts";

export interface UsageSample {
  at: number;
  cpuPercent: number;
  memoryUsedMb: number;
}

/** How far back the node charts look, and the heartbeat period the ring is sized for. */
export const HISTORY_WINDOW_MS = 10 * 60_000;
export const SAMPLE_PERIOD_MS = 3_000;

/**
 * The last minutes of each node's live usage, for the dashboard's charts, fed by heartbeats. The
 * store keeps only a node's latest stats, so the history lives here, in memory: a fixed-size ring per
 * node, lost on restart, which is fine for a glance at "the last minutes".
 */
export class UsageHistory {
  private readonly rings = new Map<string, UsageSample[]>();

  constructor(private readonly size = Math.ceil(HISTORY_WINDOW_MS / SAMPLE_PERIOD_MS)) {}

  /** Adds a node's stats from one heartbeat: a silent node adds nothing, so its chart shows the gap. */
  record(node: Node): void {
    if (!node.stats) return;
    const ring = this.rings.get(node.id) ?? [];
    if (ring.at(-1)?.at === node.stats.at) return;
    ring.push({ at: node.stats.at, cpuPercent: node.stats.cpuPercent, memoryUsedMb: node.stats.memoryUsedMb });
    if (ring.length > this.size) ring.shift();
    this.rings.set(node.id, ring);
  }

  samples(nodeId: string): readonly UsageSample[] {
    return this.rings.get(nodeId) ?? [];
  }
}
