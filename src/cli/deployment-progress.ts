import type { JobDetail, TaskView } from "../model/api-types.ts";

export interface Progress {
  /** One line per task group: placed / running / healthy of the new version, and old tasks left. */
  lines: string[];
  /** Set once the deployment settled: ok, and the one-line summary (or the reason it failed). */
  done: { ok: boolean; summary: string } | null;
}

const isLive = (t: TaskView) => t.desired === "running" && !["completed", "failed", "stopped", "lost"].includes(t.state);

/**
 * Where a submitted job version stands, from the job as the API shows it. Pure, so the progress
 * view can be tested without a cluster.
 * @example deploymentProgress(job, 2).lines // ["http: 3/3 placed, 2/3 running, 1/3 healthy; old 1 → new"]
 */
export function deploymentProgress(job: JobDetail, version: number): Progress {
  if (job.version > version) {
    return { lines: [], done: { ok: false, summary: `job ${job.name} moved on to version ${job.version}${job.rolloutFailure ? "" : " (submitted again or reverted)"}` } };
  }
  if (job.rolloutFailure) return { lines: [], done: { ok: false, summary: `rollout of job ${job.name} version ${version} failed: ${job.rolloutFailure}` } };
  const lines: string[] = [];
  let settled = true;
  let failure: string | null = null;
  for (const group of job.spec.tasks) {
    const mine = job.tasks.filter((t) => t.group === group.name);
    const current = mine.filter((t) => t.jobVersion === version);
    const live = current.filter(isLive);
    const want = job.type === "system" ? Math.max(live.length, 1) : group.count;
    const placed = live.filter((t) => t.nodeId !== null).length;
    const running = live.filter((t) => t.state === "running").length;
    const healthy = live.filter((t) => t.state === "running" && (!group.health || t.health === "healthy")).length;
    const old = mine.filter((t) => t.jobVersion !== version && isLive(t)).length;
    const pending = live.find((t) => t.state === "pending");
    // A one-off step of a service job (restart on failure only) settles like a batch task, once completed.
    if (job.type === "batch" || group.restart.condition === "on-failure") {
      const completed = current.filter((t) => t.state === "completed").length;
      const failed = current.find((t) => t.state === "failed");
      lines.push(`${group.name}: ${completed}/${want} completed, ${running} running${failed ? ", 1+ failed" : ""}`);
      if (failed) failure ??= `task ${failed.name} failed: ${failed.message}`;
      if (completed < want) settled = false;
      continue;
    }
    lines.push(`${group.name}: ${placed}/${want} placed, ${running}/${want} running, ${healthy}/${want} healthy${old > 0 ? `; ${old} old → new` : ""}${pending ? ` (${pending.message})` : ""}`);
    const failed = current.find((t) => t.state === "failed");
    if (failed && healthy < want) failure ??= `task ${failed.name} failed: ${failed.message}`;
    if (healthy < want || old > 0) settled = false;
  }
  if (failure) return { lines, done: { ok: false, summary: failure } };
  if (!settled) return { lines, done: null };
  const total = job.spec.tasks.reduce((n, g) => n + (job.type === "system" ? 0 : g.count), 0);
  return { lines, done: { ok: true, summary: `job ${job.name} version ${version}: ${job.type === "batch" ? "all tasks completed" : `${total || "all"} task(s) running and healthy`}` } };
}
