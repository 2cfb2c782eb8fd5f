import type { Logger } from "../lib/logger.ts";
import { ChangeSet } from "./change-set.ts";
import type { ManagerContext } from "./context.ts";
import { collectGarbage, type GarbageOptions } from "./garbage.ts";

const DELETES_PER_COMMIT = 100;

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
    this.timer = setInterval(() => {
      // A store that cannot take writes now (etcd without quorum) refuses the pass; the next one tries again.
      try {
        this.collect();
      } catch (err) {
        this.log.warn("garbage collection failed; the next pass tries again", { error: (err as Error).message });
      }
    }, period);
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
    // Each thing forgotten is a change of its own: committed in parts that fit one etcd transaction (one SQLite transaction in all).
    const deletes = [
      ...garbage.tasks.map((id) => (c: ChangeSet) => c.deleteTask(id)),
      ...garbage.versions.map((v) => (c: ChangeSet) => c.deleteVersion(v.job, v.version)),
      ...garbage.jobs.map((name) => (c: ChangeSet) => c.deleteJob(name)),
    ];
    this.ctx.commit.together(() => {
      for (let i = 0; i < deletes.length; i += DELETES_PER_COMMIT) {
        const changes = new ChangeSet(this.ctx.now());
        for (const remove of deletes.slice(i, i + DELETES_PER_COMMIT)) remove(changes);
        this.ctx.commit(changes);
      }
    });
    const counts = { tasks: garbage.tasks.length, versions: garbage.versions.length, jobs: garbage.jobs.length };
    if (counts.tasks + counts.versions + counts.jobs > 0) this.log.info("garbage collected", counts);
    return counts;
  }
}
