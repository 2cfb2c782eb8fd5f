import type { Logger } from "../lib/logger.ts";
import type { Store } from "../store/index.ts";
import { collectGarbage, type GarbageOptions } from "./garbage.ts";

/** Trims the store on a timer: old finished tasks, dead jobs, old versions. */
export class GarbageCollector {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly store: Store,
    private readonly options: GarbageOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    const period = Math.min(Math.max(1_000, this.options.afterMs / 4), 5 * 60_000);
    this.timer = setInterval(() => this.collect(), period);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass, in one transaction; returns what was forgotten. */
  collect(): { tasks: number; versions: number; jobs: number } {
    const { store } = this;
    const jobs = store.listJobs();
    const versions = new Map(jobs.map((j) => [j.spec.name, store.listJobVersions(j.spec.name).map((v) => v.version)]));
    const garbage = collectGarbage(jobs, store.listTasks(), versions, this.now(), this.options);
    store.transaction(() => {
      for (const id of garbage.tasks) store.deleteTask(id);
      for (const v of garbage.versions) store.deleteJobVersion(v.job, v.version);
      for (const name of garbage.jobs) store.deleteJob(name);
    });
    const counts = { tasks: garbage.tasks.length, versions: garbage.versions.length, jobs: garbage.jobs.length };
    if (counts.tasks + counts.versions + counts.jobs > 0) this.log.info("garbage collected", counts);
    return counts;
  }
}
