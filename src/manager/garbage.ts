import type { Job } from "../model/job.ts";
import type { Task } from "../model/task.ts";
import { isTerminal } from "../model/task-state.ts";

export interface GarbageOptions {
  /** Finished tasks and dead jobs older than this are forgotten. */
  afterMs: number;
  /** Versions kept per job (besides those live tasks still run). */
  keepVersions: number;
}

export interface Garbage {
  tasks: string[];
  versions: { job: string; version: number }[];
  jobs: string[];
}

const finishedAt = (t: Task) => t.finishedAt ?? t.updatedAt;

/**
 * What the store may forget, so it does not grow forever. Pure. It never takes the newest task of
 * a replica slot, nor its newest task that completed or failed (a finished batch slot is known by
 * it), nor a version a live task still runs, nor the newest run of a periodic job.
 * @example collectGarbage(jobs, tasks, versions, Date.now(), { afterMs: 3_600_000, keepVersions: 10 })
 */
export function collectGarbage(jobs: Job[], tasks: Task[], versions: Map<string, number[]>, now: number, options: GarbageOptions): Garbage {
  const garbage: Garbage = { tasks: [], versions: [], jobs: [] };
  const cutoff = now - options.afterMs;
  // Per slot, the newest task and the newest that ran to its end (completed or failed): a batch slot is
  // known to be done by the latter even when a task stopped on purpose came after it.
  const newestInSlot = new Map<string, Task>();
  const newestFinished = new Map<string, Task>();
  for (const t of tasks) {
    const key = `${t.job}\u0000${t.group}\u0000${t.index}`;
    const seen = newestInSlot.get(key);
    if (!seen || t.createdAt > seen.createdAt) newestInSlot.set(key, t);
    const finished = newestFinished.get(key);
    if ((t.state === "completed" || t.state === "failed") && (!finished || t.createdAt > finished.createdAt)) newestFinished.set(key, t);
  }
  const newest = new Set([...newestInSlot.values(), ...newestFinished.values()].map((t) => t.id));
  // A periodic job's newest run records the last time it handled (periodic.ts): it stays while its job does.
  const newestRun = new Map<string, Job>();
  for (const job of jobs) {
    const run = job.spec.periodicRun;
    const seen = newestRun.get(run?.parent ?? "")?.spec.periodicRun;
    if (run && (!seen || run.at > seen.at)) newestRun.set(run.parent, job);
  }
  const kept = new Set([...newestRun.values()].filter((run) => jobs.some((j) => j.spec.name === run.spec.periodicRun?.parent)).map((run) => run.spec.name));
  const byJob = Map.groupBy(tasks, (t) => t.job);
  for (const job of jobs) {
    const mine = byJob.get(job.spec.name) ?? [];
    const allDone = mine.every((t) => isTerminal(t.state));
    const dead = job.status === "stopped" || (job.spec.type === "batch" && mine.length > 0 && allDone);
    if (dead && allDone && job.updatedAt < cutoff && mine.every((t) => finishedAt(t) < cutoff) && !kept.has(job.spec.name)) {
      garbage.jobs.push(job.spec.name);
      continue;
    }
    for (const t of mine) if (isTerminal(t.state) && finishedAt(t) < cutoff && !newest.has(t.id)) garbage.tasks.push(t.id);
    const inUse = new Set(mine.filter((t) => !isTerminal(t.state)).map((t) => t.jobVersion));
    const stored = [...(versions.get(job.spec.name) ?? [])].sort((a, b) => b - a);
    for (const version of stored.slice(options.keepVersions)) {
      if (!inUse.has(version) && version !== job.version) garbage.versions.push({ job: job.spec.name, version });
    }
  }
  return garbage;
}
