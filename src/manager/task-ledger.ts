import type { Task } from "../model/task.ts";
import { taskName } from "../model/task.ts";
import { assertTransition, type TaskState } from "../model/task-state.ts";
import type { Store } from "../store/index.ts";
import type { AssignmentWatch } from "./assignment-watch.ts";
import type { EventBus } from "./event-bus.ts";

/**
 * The one writer of task state: every change is checked against the transition table, stored with
 * an event, published, and wakes the node whose assignments it touches. Callers hold the transaction.
 */
export class TaskLedger {
  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly watch: AssignmentWatch,
  ) {}

  create(task: Task, now: number): void {
    this.store.insertTask(task);
    this.record(task, task.message, now);
  }

  place(task: Task, nodeId: string, reservedPorts: Record<string, number>, message: string, now: number): Task {
    return this.transition(task, "scheduled", { nodeId, reservedPorts }, message, now);
  }

  /** Updates the message of a task without changing its state (why it is still pending, say). */
  note(task: Task, message: string, now: number): void {
    this.store.updateTask({ ...task, message, updatedAt: now });
    this.record({ ...task, message }, message, now);
  }

  /** Asks for a task to stop: a task on no node stops at once; one on a node stops when its worker says so. */
  requestStop(task: Task, reason: string, now: number): Task {
    if (task.nodeId === null || task.state === "pending") {
      return this.transition(task, "stopped", { desired: "stopped", finishedAt: now }, reason, now);
    }
    const updated: Task = { ...task, desired: "stopped", message: reason, updatedAt: now };
    this.store.updateTask(updated);
    this.record(updated, `stop requested: ${reason}`, now);
    this.watch.bump(task.nodeId);
    return updated;
  }

  /** Moves a task to `to` (throws InvalidTransitionError when the table forbids it) and writes `fields` with it. */
  transition(task: Task, to: TaskState, fields: Partial<Task>, message: string, now: number): Task {
    assertTransition(task.id, task.state, to);
    const updated: Task = { ...task, ...fields, state: to, message, updatedAt: now };
    this.store.updateTask(updated);
    this.record(updated, message, now);
    if (updated.nodeId) this.watch.bump(updated.nodeId);
    return updated;
  }

  private record(task: Task, message: string, now: number): void {
    this.store.addTaskEvent(task.id, now, task.state, message);
    this.bus.publish({ at: now, type: "task", job: task.job, task: task.id, node: task.nodeId ?? undefined, state: task.state, message: `task ${taskName(task)} ${task.state}: ${message}` });
  }
}
