import type { Logger } from "../lib/logger.ts";
import type { PeriodicStatus } from "../model/api-types.ts";
import type { JobSpec } from "../model/job.ts";
import { ChangeSet } from "./change-set.ts";
import type { ClusterState, JobEntry } from "./cluster-state.ts";
import type { Commit } from "./commit.ts";
import type { JobTimers } from "./job-timers.ts";
import { decidePeriodic, type RunState, runName, runStatus } from "./periodic.ts";
import { jobView } from "./views.ts";

/** Runs shown with a periodic job, newest first. */
const RUNS_SHOWN = 10;

/** The runs of a periodic job in memory, oldest first (their names sort by time). */
export function runsOf(state: ClusterState, parent: string): JobEntry[] {
  const runs: JobEntry[] = [];
  const prefix = `${parent}-`;
  for (const name of state.jobNames(prefix)) {
    if (!name.startsWith(prefix)) break;
    const entry = state.job(name);
    if (entry?.job.spec.periodicRun?.parent === parent) runs.push(entry);
  }
  return runs.sort((a, b) => (a.job.spec.periodicRun?.at ?? 0) - (b.job.spec.periodicRun?.at ?? 0));
}

/**
 * A periodic job's evaluation: launches the run that is due (a batch job of its own, stored through
 * the one commit path, so it happens where evaluations happen: on the leader) or records it skipped,
 * stops the runs of a stopped periodic job, and sets the job's wake-up for the next time.
 */
export function launchPeriodic(deps: { state: ClusterState; commit: Commit; timers: JobTimers; log: Logger }, { job }: JobEntry, now: number): void {
  const { state, timers } = deps;
  const parent = job.spec.name;
  const runs: RunState[] = runsOf(state, parent).map((r) => ({ name: r.job.spec.name, at: r.job.spec.periodicRun?.at ?? 0, active: runStatus(r.job, state.tasks.ofJob(r.job.spec.name)) === "running" }));
  const decision = decidePeriodic(job, runs, now);
  timers.set(parent, decision.wakeAt);
  const changes = new ChangeSet(now);
  for (const run of decision.stop) {
    changes.setJobStatus(run, "stopped");
    changes.publish({ at: now, type: "job", job: run, message: `run ${run} stopped with its periodic job ${parent}` });
  }
  if (decision.due) {
    const { at, skipped } = decision.due;
    const name = runName(parent, at);
    const when = new Date(at).toISOString();
    if (state.job(name)) {
      // Runs are only ever this name's; another job took it, so this time cannot be recorded.
      deps.log.warn("a job holds the name of a periodic run", { job: parent, run: name });
      changes.publish({ at: now, type: "job", job: parent, message: `the run of job ${parent} due at ${when} was not launched: a job named ${name} already exists` });
    } else {
      const { schedule: _schedule, timezone: _timezone, overlap: _overlap, ...spec } = job.spec;
      const run: JobSpec = { ...spec, name, periodicRun: { parent, at } };
      changes.putJob(run, () => (skipped ? `run ${name} of job ${parent} (due ${when}) skipped: ${skipped}` : `job ${parent} launched run ${name} (due ${when})`));
      if (skipped) changes.setJobStatus(name, "stopped");
    }
  }
  deps.commit(changes, { evaluating: parent });
}

/** A periodic job's schedule, its next time and its last runs, for `cube status JOB`. */
export function periodicStatus(state: ClusterState, { job }: JobEntry, now: number): PeriodicStatus | undefined {
  const { schedule, timezone = "UTC", overlap = "skip" } = job.spec;
  if (schedule === undefined) return undefined;
  const next = job.status === "stopped" ? null : decidePeriodic(job, [], now).wakeAt;
  const runs = runsOf(state, job.spec.name)
    .slice(-RUNS_SHOWN)
    .reverse()
    .map(({ job: run, versions }) => {
      const tasks = state.tasks.ofJob(run.spec.name);
      return { job: run.spec.name, at: run.spec.periodicRun?.at ?? 0, status: runStatus(run, tasks), summary: jobView(run, tasks, versions.get(run.version)?.rolloutFailure ?? null).summary };
    });
  return { schedule, timezone, overlap, next, runs };
}
