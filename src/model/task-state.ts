/** Observed states of a task; `desired` is set by the manager, `state` is what was last observed. */
export const TASK_STATES = ["pending", "scheduled", "running", "restarting", "completed", "failed", "lost", "stopped"] as const;
export type TaskState = (typeof TASK_STATES)[number];
export type DesiredState = "running" | "stopped";

/**
 * The one table of allowed transitions. `running` holds only while the container runs: between
 * attempts (after an exit, or a start the engine refused) the task is `restarting`, with the time of
 * its next attempt; `running → running` is a change seen while it runs (health, say).
 * completed, failed and stopped are final: a replacement is a new task, so history stays true.
 */
const TRANSITIONS: Record<TaskState, readonly TaskState[]> = {
  pending: ["scheduled", "stopped"],
  scheduled: ["running", "restarting", "completed", "failed", "lost", "stopped"],
  running: ["running", "restarting", "completed", "failed", "lost", "stopped"],
  restarting: ["running", "restarting", "failed", "lost", "stopped"],
  lost: ["stopped"],
  completed: [],
  failed: [],
  stopped: [],
};

export const TERMINAL_STATES: readonly TaskState[] = ["completed", "failed", "stopped"];

export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** A task that is done or no longer counted as one of its job's live replicas. */
export function isGone(state: TaskState): boolean {
  return isTerminal(state) || state === "lost";
}

export function canTransition(from: TaskState, to: TaskState): boolean {
  return TRANSITIONS[from].includes(to);
}

export class InvalidTransitionError extends Error {
  constructor(
    readonly from: TaskState,
    readonly to: TaskState,
    readonly taskId: string,
  ) {
    super(`task ${taskId}: cannot go from ${from} to ${to}`);
  }
}

/** Throws unless `from → to` is in the table; the only gate every state write goes through. */
export function assertTransition(taskId: string, from: TaskState, to: TaskState): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to, taskId);
}
