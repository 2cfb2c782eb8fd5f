import type { TaskSpec } from "../model/job.ts";

/** Labels on every container Cube starts, so a restarted worker finds its own and removes orphans. */
export const LABELS = { taskId: "cube.task.id", job: "cube.job", group: "cube.group", index: "cube.index", nodeId: "cube.node.id" } as const;

export interface TaskConfig {
  taskId: string;
  job: string;
  group: string;
  index: number;
  nodeId: string;
  spec: Pick<TaskSpec, "image" | "command" | "entrypoint" | "env" | "labels" | "resources" | "ports">;
}

export interface TaskHandle {
  taskId: string;
  containerId: string;
  hostPorts: Record<string, number>;
  startedAt: number;
}

export interface ExitResult {
  exitCode: number;
  oomKilled: boolean;
  /** For people: "exit code 0", "exit code 137 (OOM killed)", "exit code 143 (signal 15, SIGTERM)". */
  description: string;
  finishedAt: number;
}

export interface RecoveredTask {
  taskId: string;
  job: string;
  group: string;
  index: number;
  containerId: string;
  running: boolean;
  hostPorts: Record<string, number>;
}

export interface LogOptions {
  follow: boolean;
  tail?: number;
  stdout: boolean;
  stderr: boolean;
  signal?: AbortSignal;
}

export type DriverErrorCode = "image_not_found" | "image_pull_failed" | "engine_unreachable" | "container_failed" | "not_found";

export class DriverError extends Error {
  constructor(
    message: string,
    readonly code: DriverErrorCode,
  ) {
    super(message);
  }
}

/** What runs a task's process; shaped like Nomad's task-driver plugin. */
export interface Driver {
  /** Throws DriverError("engine_unreachable") naming where the engine was looked for. */
  ping(): Promise<void>;
  /** Creates and starts the container, pulling a missing image; returns the host ports the engine bound. */
  start(config: TaskConfig): Promise<TaskHandle>;
  /** Resolves when the container exits (at once if it already has). */
  wait(containerId: string): Promise<ExitResult>;
  /** The stop signal, then SIGKILL after timeoutMs; already stopped or gone is fine. */
  stop(containerId: string, timeoutMs: number): Promise<void>;
  /** Force-removes the container; already gone is fine. */
  destroy(containerId: string): Promise<void>;
  /** Every container this node started, running or not, decoded from its labels. */
  recover(nodeId: string): Promise<RecoveredTask[]>;
  /** Demultiplexed container output. */
  logs(containerId: string, options: LogOptions): Promise<ReadableStream<Uint8Array>>;
}
