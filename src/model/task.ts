import type { Resources } from "./job.ts";
import type { DesiredState, TaskState } from "./task-state.ts";

/** Health of a task with a check: `starting` until its first probe passes. Tasks without a check have none. */
export type TaskHealth = "starting" | "healthy" | "unhealthy";

/** One instance of a task spec, placed (or waiting to be placed) on one node. */
export interface Task {
  id: string;
  job: string;
  jobVersion: number;
  /** The task spec's name inside the job. */
  group: string;
  /** Replica slot, 0-based: `web.http.2` is index 2. */
  index: number;
  nodeId: string | null;
  desired: DesiredState;
  state: TaskState;
  /** Resources reserved on the node, copied from the spec at placement so accounting never re-reads old versions. */
  resources: Resources;
  /** Static host ports reserved on the node (port name → host port). */
  reservedPorts: Record<string, number>;
  /** Host ports actually bound (port name → host port), as reported by the worker. */
  hostPorts: Record<string, number>;
  containerId: string | null;
  exitCode: number | null;
  message: string;
  restarts: number;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  health: TaskHealth | null;
  /** While `restarting`: when the worker tries again (null when it waits for the engine to come back). */
  nextAttemptAt: number | null;
}

/**
 * The events a task keeps, newest last (Nomad keeps 10): enough to see why it restarted or failed,
 * and kept with the task itself, so a state change writes one record, not two.
 */
export const TASK_EVENTS_KEPT = 20;

/** What happened to a task; `id` counts up within the task. */
export interface TaskEvent {
  id: number;
  taskId: string;
  at: number;
  state: TaskState;
  message: string;
}

/** The name users read: job.group.index. */
export function taskName(task: Pick<Task, "job" | "group" | "index">): string {
  return `${task.job}.${task.group}.${task.index}`;
}

/** A task's name as its parts (job and group names hold no dots); null for text that is not one. */
export function parseTaskName(text: string): { job: string; group: string; index: number } | null {
  const match = /^([^.]+)\.([^.]+)\.(\d{1,9})$/.exec(text);
  return match ? { job: match[1] as string, group: match[2] as string, index: Number(match[3]) } : null;
}
