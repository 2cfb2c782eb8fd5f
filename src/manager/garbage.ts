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

/** What one job lets the store forget: the whole job (`dead`), else some of its tasks and versions. */
export interface JobGarbage {
  dead: boolean;
  tasks: string[];
  versions: number[];
}

/**
 * The periodic runs that stay while their parent does: each parent's newest run, whose time is the
 * last one the parent handled (periodic.ts).
 */
export function keptRuns(jobs: Iterable<Job>): Set<string> {
  const names = new Set<string>();
  const newestRun = new Map<string, Job>();
  for (const job of jobs) {
    names.add(job.spec.name);
    const run = job.spec.periodicRun;
    const seen = newestRun.get(run?.parent ?? "")?.spec.periodicRun;
    if (run && (!seen || run.at > seen.at)) newestRun.set(run.parent, job);
  }
  return new Set([...newestRun].filter(([parent]) => names.has(parent)).map(([, run]) => run.spec.name));
}

/**
 * What the store may forget of one job, given all its tasks and stored versions. Pure. It never takes
 * the newest task of a replica slot, nor its newest task that completed or failed (a finished batch
 * slot is known by it), nor a version a live task still runs, nor a run in `kept` (see keptRuns).
 * @example jobGarbage(job, tasks, [3, 2, 1], Date.now(), { afterMs: 3_600_000, keepVersions: 10 }, keptRuns(jobs))
 */
export function jobGarbage(job: Job, tasks: readonly Task[], versions: readonly number[], now: number, options: GarbageOptions, kept: ReadonlySet<string>): JobGarbage {
  const cutoff = now - options.afterMs;
  const allDone = tasks.every((t) => isTerminal(t.state));
  const stopped = job.status === "stopped" || (job.spec.type === "batch" && tasks.length > 0 && allDone);
  if (stopped && allDone && job.updatedAt < cutoff && tasks.every((t) => finishedAt(t) < cutoff) && !kept.has(job.spec.name)) {
    return { dead: true, tasks: [], versions: [] };
  }
  // Per slot, the newest task and the newest that ran to its end (completed or failed): a batch slot is
  // known to be done by the latter even when a task stopped on purpose came after it.
  const newestInSlot = new Map<string, Task>();
  const newestFinished = new Map<string, Task>();
  for (const t of tasks) {
    const key = `${t.group}\u0000${t.index}`;
    const seen = newestInSlot.get(key);
    if (!seen || t.createdAt > seen.createdAt) newestInSlot.set(key, t);
    const finished = newestFinished.get(key);
    if ((t.state === "completed" || t.state === "failed") && (!finished || t.createdAt > finished.createdAt)) newestFinished.set(key, t);
  }
  const newest = new Set([...newestInSlot.values(), ...newestFinished.values()].map((t) => t.id));
  const garbage: JobGarbage = { dead: false, tasks: [], versions: [] };
  for (const t of tasks) if (isTerminal(t.state) && finishedAt(t) < cutoff && !newest.has(t.id)) garbage.tasks.push(t.id);
  const inUse = new Set(tasks.filter((t) => !isTerminal(t.state)).map((t) => t.jobVersion));
  const stored = [...versions].sort((a, b) => b - a);
  for (const version of stored.slice(options.keepVersions)) {
    if (!inUse.has(version) && version !== job.version) garbage.versions.push(version);
  }
  return garbage;
}

/**
 * What the store may forget of all these jobs at once (see jobGarbage). Pure: the model of a whole
 * pass, which the tests hold the collector's passes in turns to.
 * @example collectGarbage(jobs, tasks, versions, Date.now(), { afterMs: 3_600_000, keepVersions: 10 })
 */
export function collectGarbage(jobs: Job[], tasks: Task[], versions: Map<string, number[]>, now: number, options: GarbageOptions): Garbage {
  const garbage: Garbage = { tasks: [], versions: [], jobs: [] };
  const kept = keptRuns(jobs);
  const byJob = Map.groupBy(tasks, (t) => t.job);
  for (const job of jobs) {
    const name = job.spec.name;
    const mine = jobGarbage(job, byJob.get(name) ?? [], versions.get(name) ?? [], now, options, kept);
    if (mine.dead) garbage.jobs.push(name);
    garbage.tasks.push(...mine.tasks);
    garbage.versions.push(...mine.versions.map((version) => ({ job: name, version })));
  }
  return garbage;
}
