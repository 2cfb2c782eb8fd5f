import { latestDue, nextDue } from "../model/cron.ts";
import type { Job } from "../model/job.ts";
import type { Task } from "../model/task.ts";
import { isTerminal } from "../model/task-state.ts";

/** A run of a periodic job as the launcher sees it: its name, the time it ran for, and whether it still runs. */
export interface RunState {
  name: string;
  at: number;
  active: boolean;
}

export interface PeriodicDecision {
  /** The scheduled time to launch a run for now, and why it is skipped instead (null: launch it). */
  due: { at: number; skipped: string | null } | null;
  /** Runs to stop: the periodic job was stopped. */
  stop: string[];
  /** When to look again: the next time the schedule comes due. */
  wakeAt: number | null;
}

/** What a run is called: the periodic job's name and the scheduled time in unix seconds (`backup-1732850400`). */
export function runName(parent: string, at: number): string {
  return `${parent}-${Math.floor(at / 1000)}`;
}

/** How a run stands, from its job's status and its tasks: a run stopped before it had any was skipped. */
export type RunStatus = "running" | "completed" | "failed" | "stopped" | "skipped";

export function runStatus(run: Pick<Job, "status">, tasks: readonly Task[]): RunStatus {
  if (run.status === "stopped") return tasks.length === 0 ? "skipped" : "stopped";
  if (tasks.length === 0 || tasks.some((t) => !isTerminal(t.state))) return "running";
  return tasks.some((t) => t.state === "failed") ? "failed" : "completed";
}

/**
 * What a periodic job's launcher does now. Pure: the clock is passed in. A time is due once the
 * schedule reaches it after both the job's last change and its newest run, so each time gets one
 * run at most, across manager restarts too (runs are stored, and the newest is never collected);
 * of several times missed while no manager ran, only the latest is launched. With `overlap: skip`,
 * a time that comes while a run is still active is recorded as skipped.
 * @example decidePeriodic(job, [], Date.parse("2025-01-01T10:15:00Z")).due?.at
 */
export function decidePeriodic(job: Job, runs: readonly RunState[], now: number): PeriodicDecision {
  const { schedule, timezone = "UTC", overlap = "skip" } = job.spec;
  if (schedule === undefined) return { due: null, stop: [], wakeAt: null };
  if (job.status === "stopped") return { due: null, stop: runs.filter((r) => r.active).map((r) => r.name), wakeAt: null };
  const handled = Math.max(job.updatedAt, ...runs.map((r) => r.at));
  const latest = latestDue(schedule, timezone, now);
  const wakeAt = nextDue(schedule, timezone, now);
  if (latest === null || latest <= handled) return { due: null, stop: [], wakeAt };
  const running = runs.find((r) => r.active);
  const skipped = overlap === "skip" && running ? `run ${running.name} is still running` : null;
  return { due: { at: latest, skipped }, stop: [], wakeAt };
}
