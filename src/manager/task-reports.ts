import { ConflictError, NotFoundError } from "../lib/errors.ts";
import type { TaskReport, TaskReportItem, TaskReportResult } from "../model/api-types.ts";
import type { Task } from "../model/task.ts";
import { canTransition, InvalidTransitionError, isTerminal } from "../model/task-state.ts";
import type { ChangeSet } from "./change-set.ts";
import type { ClusterState } from "./cluster-state.ts";
import type { ManagerMetrics } from "./manager-metrics.ts";
import { ledger } from "./task-ledger.ts";

/**
 * Applies what a worker observed. A worker may only speak for tasks placed on it, and only moves
 * the table allows are written; a stale report (the task moved on meanwhile) is refused.
 */
export function applyTaskReport(changes: ChangeSet, state: ClusterState, nodeId: string, taskId: string, report: TaskReport, metrics?: ManagerMetrics): Task {
  const task = changes.task(taskId) ?? state.tasks.get(taskId);
  if (!task) throw new NotFoundError(`task ${taskId} does not exist`);
  if (task.nodeId !== nodeId) throw new ConflictError(`task ${taskId} is not placed on node ${nodeId}`);
  if (!canTransition(task.state, report.state)) throw new ConflictError(`task ${taskId} is ${task.state} and cannot become ${report.state}`);
  const fields: Partial<Task> = {
    ...(report.containerId !== undefined ? { containerId: report.containerId } : {}),
    ...(report.hostPorts !== undefined ? { hostPorts: report.hostPorts } : {}),
    ...(report.exitCode !== undefined ? { exitCode: report.exitCode } : {}),
    ...(report.restarts !== undefined ? { restarts: report.restarts } : {}),
    ...(report.health !== undefined ? { health: report.health } : {}),
    nextAttemptAt: report.state === "restarting" ? (report.nextAttemptAt ?? null) : null,
  };
  if (report.state === "running" && task.state !== "running") fields.startedAt = changes.now;
  if (report.state === "running" && task.startedAt === null) metrics?.started(task, changes.now);
  if (isTerminal(report.state)) fields.finishedAt = changes.now;
  return ledger.transition(changes, task, report.state, fields, report.message);
}

/**
 * Applies a worker's batch of reports in order into one change set: each report sees the ones before
 * it (a task reported running, then completed), and one that is refused is answered so and skipped
 * while the others apply.
 */
export function applyTaskReports(changes: ChangeSet, state: ClusterState, nodeId: string, reports: readonly TaskReportItem[], metrics?: ManagerMetrics): TaskReportResult[] {
  return reports.map(({ taskId, ...report }): TaskReportResult => {
    try {
      const task = applyTaskReport(changes, state, nodeId, taskId, report, metrics);
      return { taskId, ok: true, state: task.state, desired: task.desired };
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof ConflictError || err instanceof InvalidTransitionError) {
        return { taskId, ok: false, error: { code: err instanceof NotFoundError ? "not_found" : "conflict", message: err.message } };
      }
      throw err;
    }
  });
}
