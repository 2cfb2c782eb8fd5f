import type { JobSpec } from "./job.ts";
import type { FieldIssue } from "./job-validation-error.ts";

/** Default ceiling on the tasks one job may ask for, so one request cannot exhaust the manager. */
export const DEFAULT_MAX_TASKS_PER_JOB = 10_000;

/** A job asking for more tasks, all groups together, than the manager takes (--max-tasks-per-job). */
export function jobSizeIssues(spec: JobSpec, maxTasks: number): FieldIssue[] {
  const total = spec.tasks.reduce((sum, t) => sum + t.count, 0);
  if (total <= maxTasks) return [];
  return [{ path: "tasks", message: `the job asks for ${total} tasks; this manager takes at most ${maxTasks} per job (--max-tasks-per-job)` }];
}
