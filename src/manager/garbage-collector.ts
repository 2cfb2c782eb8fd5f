import type { Logger } from "../lib/logger.ts";
import { ChangeSet } from "./change-set.ts";
import type { ManagerContext } from "./context.ts";
import { collectGarbage, type GarbageOptions } from "./garbage.ts";

/** Trims what the manager keeps, on a timer: old finished tasks, dead jobs, old versions. */
export class GarbageCollector {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly ctx: ManagerContext,
    private readonly options: GarbageOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    const period = Math.min(Math.max(1_000, this.options.afterMs / 4), 5 * 60_000);
    this.timer = setInterval(() => this.collect(), period);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over the in-memory state, committed in one transaction; returns what was forgotten. */
  collect(): { tasks: number; versions: number; jobs: number } {
    const { state } = this.ctx;
    const jobs = [...state.jobNames()].map((name) => state.job(name)).filter((e) => e !== undefined);
    const versions = new Map(jobs.map((e) => [e.job.spec.name, [...e.versions.keys()]]));
    const garbage = collectGarbage(jobs.map((e) => e.job), [...state.tasks.all()], versions, this.ctx.now(), this.options);
    const changes = new ChangeSet(this.ctx.now());
    for (const id of garbage.tasks) changes.deleteTask(id);
    for (const v of garbage.versions) changes.deleteVersion(v.job, v.version);
    for (const name of garbage.jobs) changes.deleteJob(name);
    this.ctx.commit(changes);
    const counts = { tasks: garbage.tasks.length, versions: garbage.versions.length, jobs: garbage.jobs.length };
    if (counts.tasks + counts.versions + counts.jobs > 0) this.log.info("garbage collected", counts);
    return counts;
  }
}
