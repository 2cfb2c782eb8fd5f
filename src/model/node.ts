import type { Resources } from "./job.ts";

export type NodeStatus = "ready" | "down" | "draining";

/** Live usage reported with each heartbeat. */
export interface NodeStats {
  cpuPercent: number;
  memoryUsedMb: number;
  diskUsedMb: number;
  at: number;
}

export interface Node {
  id: string;
  name: string;
  /** Base URL of the worker's own API (logs are proxied there). */
  address: string;
  datacenter: string;
  labels: Record<string, string>;
  /** cpu in cores, memory and disk in MiB. */
  capacity: Resources;
  stats: NodeStats | null;
  status: NodeStatus;
  /** An ineligible node keeps its tasks but gets no new ones. */
  eligible: boolean;
  lastHeartbeat: number;
  registeredAt: number;
  version: string;
}
