import { newId } from "../lib/ids.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { Job, JobSpec, TaskSpec } from "../model/job.ts";
import type { Task } from "../model/task.ts";
import { type Algorithm, placeTasks, summarizeReasons } from "../scheduler/index.ts";
import { ChangeSet } from "./change-set.ts";
import type { ClusterState, JobEntry } from "./cluster-state.ts";
import type { Commit } from "./commit.ts";
import type { JobTimers } from "./job-timers.ts";
import { type ReconcileDecision, reconcile } from "./reconcile.ts";
import { ledger } from "./task-ledger.ts";

export interface EvaluatorOptions {
  state: ClusterState;
  commit: Commit;
  timers: JobTimers;
  metrics: Metrics;
  algorithm: Algorithm;
  log: Logger;
  now: () => number;
  /** Called with each job evaluated (tests count them). */
  onEvaluate?: (job: string) => void;
}

/**
 * Evaluates one job against the in-memory cluster: the pure `reconcile` says what to create, stop
 * and relabel, the pure scheduler places what is pending on the long-lived ClusterIndex, and each step
 * is committed before the next reads the state (decisions, then each task group's placements, then a
 * failed rollout's mark and revert). Work is proportional to the job, never to the cluster.
 */
export class Evaluator {
  constructor(private readonly options: EvaluatorOptions) {}

  evaluate(name: string): void {
    const { state, timers, commit } = this.options;
    this.options.onEvaluate?.(name);
    this.options.metrics.inc("cube_evaluations_total", "Jobs evaluated (each after a change that concerns it).");
    const entry = state.job(name);
    if (!entry) {
      timers.set(name, null);
      return;
    }
    const { job } = entry;
    const now = this.options.now();
    const decision = reconcile({ job, tasks: state.tasks.ofJob(name), versions: specsOf(entry), nodes: state.nodeList(), now });
    timers.set(name, decision.wakeAt);

    const changes = new ChangeSet(now);
    for (const { task, reason } of decision.stop) ledger.requestStop(changes, task, reason);
    for (const task of decision.adopt) changes.writeTask({ ...task, jobVersion: job.version, updatedAt: now });
    for (const c of decision.create) if (c.nodeId === undefined) ledger.create(changes, pendingTask(job, c.group, c.index, now));
    commit(changes, { evaluating: name });

    for (const group of job.spec.tasks) {
      if (job.spec.type === "system") this.placeSystemGroup(job, group, decision, now);
      else this.placePending(job, group, now);
    }
    if (decision.rolloutFailure) this.rolloutFailed(entry, decision.rolloutFailure, now);
  }

  /** Places the group's pending tasks of the current version, in one transaction. */
  private placePending(job: Job, group: TaskSpec, now: number): void {
    const { state, metrics, commit } = this.options;
    const waiting = state.tasks.ofJob(job.spec.name).filter((t) => t.state === "pending" && t.desired === "running" && t.group === group.name && t.jobVersion === job.version);
    if (waiting.length === 0) return;
    const byIndex = new Map(waiting.map((t) => [t.index, t]));
    const started = performance.now();
    const result = placeTasks(
      { job: job.spec, group, indexes: [...byIndex.keys()], algorithm: job.spec.scheduler ?? this.options.algorithm, seed: `${job.spec.name}/${job.version}/${now}` },
      state.cluster,
    );
    metrics.observe("cube_scheduling_duration_seconds", "Time spent placing a task group's pending tasks.", {}, (performance.now() - started) / 1000);
    metrics.inc("cube_placements_total", "Tasks placed on a node.", {}, result.placements.length);
    const changes = new ChangeSet(now);
    for (const p of result.placements) ledger.place(changes, byIndex.get(p.index) as Task, p.nodeId, p.reservedPorts, `placed on ${p.score.nodeName}`);
    for (const f of result.failures) {
      const task = byIndex.get(f.index) as Task;
      const message = `no node can run it: ${summarizeReasons(f.reasons) || "no nodes registered"}`;
      if (task.message !== message) ledger.note(changes, task, message);
    }
    commit(changes, { evaluating: job.spec.name });
  }

  /** A system job's task is created only on a node that can run it: no pending task waits for one. */
  private placeSystemGroup(job: Job, group: TaskSpec, decision: ReconcileDecision, now: number): void {
    const changes = new ChangeSet(now);
    for (const c of decision.create) {
      if (c.group !== group.name || c.nodeId === undefined) continue;
      const request = { job: job.spec, group, indexes: [c.index], algorithm: job.spec.scheduler ?? this.options.algorithm, seed: `${job.spec.name}/${c.nodeId}`, onlyNodes: [c.nodeId] };
      const placement = placeTasks(request, this.options.state.cluster).placements[0];
      if (!placement) continue;
      const task = pendingTask(job, group.name, c.index, now);
      ledger.create(changes, task);
      ledger.place(changes, task, placement.nodeId, placement.reservedPorts, `placed on ${placement.score.nodeName}`);
    }
    this.options.commit(changes, { evaluating: job.spec.name });
  }

  /**
   * A failed rolling update stops replacing tasks; with auto_revert the version it was replacing is
   * submitted again as a new version. Both are stored with the version, so a restarted manager knows.
   * A version that is itself an automatic revert is never reverted, so two broken versions cannot
   * bounce back and forth.
   */
  private rolloutFailed({ job, versions }: JobEntry, failure: NonNullable<ReconcileDecision["rolloutFailure"]>, now: number): void {
    const current = versions.get(job.version);
    if (!current || current.rolloutFailure !== null) return;
    const name = job.spec.name;
    const target = failure.revertTo !== null && !current.autoRevert ? versions.get(failure.revertTo) : undefined;
    this.options.log.warn("rollout failed", { job: name, version: job.version, reason: failure.reason, revertTo: target?.version ?? null });
    const changes = new ChangeSet(now);
    changes.rolloutFailed(name, job.version, failure.reason);
    changes.publish({ at: now, type: "job", job: name, message: `rollout of job ${name} version ${job.version} failed: ${failure.reason}${target ? `; reverting to version ${target.version}` : ""}` });
    if (target) changes.putJob(target.spec, (r) => `job ${name} reverted to version ${target.version}'s spec as version ${r.job.version}`, true);
    this.options.commit(changes, { evaluating: name });
  }
}

function specsOf({ versions }: JobEntry): Map<number, JobSpec> {
  return new Map([...versions.values()].map((v) => [v.version, v.spec]));
}

function pendingTask(job: Job, group: string, index: number, now: number): Task {
  const spec = job.spec.tasks.find((g) => g.name === group) as TaskSpec;
  return {
    id: newId(),
    job: job.spec.name,
    jobVersion: job.version,
    group,
    index,
    nodeId: null,
    desired: "running",
    state: "pending",
    resources: spec.resources,
    reservedPorts: {},
    hostPorts: {},
    containerId: null,
    exitCode: null,
    message: "waiting for placement",
    restarts: 0,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
    health: null,
    nextAttemptAt: null,
  };
}
