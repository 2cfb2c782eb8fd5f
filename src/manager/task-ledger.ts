import type { Task } from "../model/task.ts";
import { taskName } from "../model/task.ts";
import { assertTransition, type TaskState } from "../model/task-state.ts";
import type { ChangeSet } from "./change-set.ts";

/**
 * The one writer of task state: every change is checked against the transition table and written
 * into a change set with its event (stored) and its cluster event (published once committed).
 * Which nodes to wake and which jobs to evaluate follows from the change itself (apply-changes.ts).
 */
export const ledger = {
  create(changes: ChangeSet, task: Task): void {
    changes.insertTask(task);
    record(changes, task, task.message);
  },

  place(changes: ChangeSet, task: Task, nodeId: string, reservedPorts: Record<string, number>, message: string): Task {
    return ledger.transition(changes, task, "scheduled", { nodeId, reservedPorts }, message);
  },

  /** Updates the message of a task without changing its state (why it is still pending, say). */
  note(changes: ChangeSet, task: Task, message: string): Task {
    const updated: Task = { ...task, message, updatedAt: changes.now };
    changes.writeTask(updated);
    record(changes, updated, message);
    return updated;
  },

  /** Asks for a task to stop: a task on no node stops at once; one on a node stops when its worker says so. */
  requestStop(changes: ChangeSet, task: Task, reason: string): Task {
    if (task.nodeId === null || task.state === "pending") {
      return ledger.transition(changes, task, "stopped", { desired: "stopped", finishedAt: changes.now }, reason);
    }
    const updated: Task = { ...task, desired: "stopped", message: reason, updatedAt: changes.now };
    changes.writeTask(updated);
    record(changes, updated, `stop requested: ${reason}`);
    return updated;
  },

  /** Moves a task to `to` (throws InvalidTransitionError when the table forbids it) and writes `fields` with it. */
  transition(changes: ChangeSet, task: Task, to: TaskState, fields: Partial<Task>, message: string): Task {
    assertTransition(task.id, task.state, to);
    const updated: Task = { ...task, ...fields, state: to, message, updatedAt: changes.now };
    changes.writeTask(updated);
    record(changes, updated, message);
    return updated;
  },
};

function record(changes: ChangeSet, task: Task, message: string): void {
  changes.taskEvent(task.id, task.state, message);
  changes.publish({ at: changes.now, type: "task", job: task.job, task: task.id, node: task.nodeId ?? undefined, state: task.state, message: `task ${taskName(task)} ${task.state}: ${message}` });
}
