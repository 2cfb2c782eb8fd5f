import { ConflictError, NotFoundError } from "../lib/errors.ts";
import type { TaskReport } from "../model/api-types.ts";
import type { Task } from "../model/task.ts";
import { canTransition, isTerminal } from "../model/task-state.ts";
import type { Store } from "../store/index.ts";
import type { TaskLedger } from "./task-ledger.ts";

/**
 * Applies what a worker observed. A worker may only speak for tasks placed on it, and only moves
 * the table allows are written; a stale report (the task moved on meanwhile) is refused with 409.
 */
export function applyTaskReport(store: Store, ledger: TaskLedger, nodeId: string, taskId: string, report: TaskReport, now: number): Task {
  return store.transaction(() => {
    const task = store.getTask(taskId);
    if (!task) throw new NotFoundError(`task ${taskId} does not exist`);
    if (task.nodeId !== nodeId) throw new ConflictError(`task ${taskId} is not placed on node ${nodeId}`);
    if (!canTransition(task.state, report.state)) {
      throw new ConflictError(`task ${taskId} is ${task.state} and cannot become ${report.state}`);
    }
    const fields: Partial<Task> = {
      ...(report.containerId !== undefined ? { containerId: report.containerId } : {}),
      ...(report.hostPorts !== undefined ? { hostPorts: report.hostPorts } : {}),
      ...(report.exitCode !== undefined ? { exitCode: report.exitCode } : {}),
      ...(report.restarts !== undefined ? { restarts: report.restarts } : {}),
      ...(report.health !== undefined ? { health: report.health } : {}),
      nextAttemptAt: report.state === "restarting" ? (report.nextAttemptAt ?? null) : null,
    };
    if (report.state === "running" && task.state !== "running") fields.startedAt = now;
    if (isTerminal(report.state)) fields.finishedAt = now;
    return ledger.transition(task, report.state, fields, report.message, now);
  });
}
