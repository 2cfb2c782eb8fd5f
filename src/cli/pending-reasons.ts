import type { JobDetail } from "../model/api-types.ts";

/**
 * Why tasks of a job version are still pending, one line per reason with the tasks it holds back:
 * `2 task(s) pending: no node can run it: 3 nodes: memory exhausted… (web.http.0, web.http.1)`.
 */
export function pendingReasons(job: JobDetail, version: number): string[] {
  // A task the reconciler has not looked at yet is not held back by anything.
  const pending = job.tasks.filter((t) => t.jobVersion === version && t.state === "pending" && t.desired === "running" && t.message !== "waiting for placement");
  return [...Map.groupBy(pending, (t) => t.message).entries()].map(([message, tasks]) => {
    const shown = tasks.slice(0, 3).map((t) => t.name).join(", ");
    return `${tasks.length} task(s) pending: ${message} (${shown}${tasks.length > 3 ? ` +${tasks.length - 3} more` : ""})`;
  });
}
