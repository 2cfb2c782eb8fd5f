import type { Logger } from "../lib/logger.ts";
import { newId } from "../lib/ids.ts";
import type { Job, JobSpec, TaskSpec } from "../model/job.ts";
import type { Task } from "../model/task.ts";
import { isGone } from "../model/task-state.ts";
import { ClusterIndex, placeTasks, summarizeReasons, type Algorithm } from "../scheduler/index.ts";
import type { Store } from "../store/index.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { EventBus } from "./event-bus.ts";
import type { TaskLedger } from "./task-ledger.ts";
import { reconcile } from "./reconcile.ts";

export interface ReconcilerOptions {
  store: Store;
  ledger: TaskLedger;
  bus: EventBus;
  metrics: Metrics;
  algorithm: Algorithm;
  log: Logger;
  now?: () => number;
}

/**
 * Level-triggered: every run compares all jobs with their tasks and converges, so a lost trigger
 * only delays work. Runs are serialized; triggers during a run coalesce into one more run.
 */
export class Reconciler {
  private running = false;
  private again = false;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Rollouts already reported failed, and versions created by an automatic revert (job@version). */
  private readonly failedRollouts = new Map<string, string>();
  private readonly autoReverts = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Asks for a run soon; cheap to call often. */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    queueMicrotask(() => this.loop());
  }

  stop(): void {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
  }

  private loop(): void {
    try {
      do {
        this.again = false;
        this.runOnce();
      } while (this.again && !this.stopped);
    } catch (err) {
      this.options.log.error("reconcile failed", { error: (err as Error).message });
      this.scheduleWake(this.now() + 1_000);
    } finally {
      this.running = false;
    }
  }

  private scheduleWake(at: number): void {
    if (this.stopped) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.trigger();
    }, Math.max(0, at - this.now()));
  }

  /** One pass over every job; exposed for tests that want a deterministic step. */
  runOnce(): void {
    const { store } = this.options;
    const now = this.now();
    const nodes = store.listNodes();
    const allTasks = store.listTasks();
    // One index of the cluster for the whole pass; each placement written down is added to it.
    const cluster = ClusterIndex.of({ nodes, tasks: allTasks.filter((t) => t.nodeId !== null && !isGone(t.state)) });
    const tasksByJob = Map.groupBy(allTasks, (t) => t.job);
    let wakeAt: number | null = null;
    for (const job of store.listJobs()) {
      const tasks = tasksByJob.get(job.spec.name) ?? [];
      const decision = reconcile({ job, tasks, versions: this.versionsOf(job, tasks), nodes, now });
      if (decision.wakeAt !== null) wakeAt = Math.min(wakeAt ?? decision.wakeAt, decision.wakeAt);
      store.transaction(() => {
        for (const { task, reason } of decision.stop) this.options.ledger.requestStop(task, reason, now);
        for (const task of decision.adopt) store.updateTask({ ...task, jobVersion: job.version, updatedAt: now });
        const creates = decision.create.filter((c) => c.nodeId === undefined);
        for (const c of creates) this.createPending(job, c.group, c.index, now);
        for (const c of decision.create) if (c.nodeId !== undefined) this.placeSystemTask(job, c.group, c.index, c.nodeId, cluster, now);
      });
      this.placePending(job, cluster, now);
      if (decision.rolloutFailure) this.rolloutFailed(job, decision.rolloutFailure, now);
    }
    if (wakeAt !== null) this.scheduleWake(wakeAt);
  }

  /** Why the rollout of this job version failed, if it did (since this manager started). */
  rolloutFailure(job: string, version: number): string | null {
    return this.failedRollouts.get(`${job}@${version}`) ?? null;
  }

  /**
   * A failed rolling update stops replacing tasks; with auto_revert the version it was replacing is
   * submitted again as a new version. A version that is itself an automatic revert is never reverted,
   * so two broken versions cannot bounce back and forth.
   */
  private rolloutFailed(job: Job, failure: { group: string; reason: string; revertTo: number | null }, now: number): void {
    const key = `${job.spec.name}@${job.version}`;
    if (this.failedRollouts.has(key)) return;
    this.failedRollouts.set(key, failure.reason);
    const { store, log, bus } = this.options;
    const target = failure.revertTo !== null && !this.autoReverts.has(key) ? store.listJobVersions(job.spec.name).find((v) => v.version === failure.revertTo) : undefined;
    log.warn("rollout failed", { job: job.spec.name, version: job.version, reason: failure.reason, revertTo: target?.version ?? null });
    bus.publish({ at: now, type: "job", job: job.spec.name, message: `rollout of job ${job.spec.name} version ${job.version} failed: ${failure.reason}${target ? `; reverting to version ${target.version}` : ""}` });
    if (!target) return;
    const { job: reverted } = store.putJob(target.spec, now);
    this.autoReverts.add(`${job.spec.name}@${reverted.version}`);
    bus.publish({ at: now, type: "job", job: job.spec.name, message: `job ${job.spec.name} reverted to version ${target.version}'s spec as version ${reverted.version}` });
    this.trigger();
  }

  private versionsOf(job: Job, tasks: Task[]): Map<number, JobSpec> {
    const needed = new Set(tasks.filter((t) => !isGone(t.state) && t.jobVersion !== job.version).map((t) => t.jobVersion));
    const versions = new Map<number, JobSpec>();
    if (needed.size === 0) return versions;
    for (const v of this.options.store.listJobVersions(job.spec.name)) if (needed.has(v.version)) versions.set(v.version, v.spec);
    return versions;
  }

  private createPending(job: Job, group: string, index: number, now: number): Task {
    const spec = job.spec.tasks.find((g) => g.name === group) as TaskSpec;
    const task: Task = {
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
    this.options.ledger.create(task, now);
    return task;
  }

  /** Places every pending task of a job, one transaction per task group. */
  private placePending(job: Job, cluster: ClusterIndex, now: number): void {
    const { store, ledger } = this.options;
    const pending = store.listTasks({ job: job.spec.name, state: "pending", desired: "running" });
    for (const group of job.spec.tasks) {
      const waiting = pending.filter((t) => t.group === group.name && t.jobVersion === job.version);
      if (waiting.length === 0) continue;
      const byIndex = new Map(waiting.map((t) => [t.index, t]));
      const started = performance.now();
      const result = placeTasks(
        { job: job.spec, group, indexes: [...byIndex.keys()], algorithm: job.spec.scheduler ?? this.options.algorithm, seed: `${job.spec.name}/${job.version}/${now}` },
        cluster,
      );
      this.options.metrics.observe("cube_scheduling_duration_seconds", "Time spent placing a task group's pending tasks.", {}, (performance.now() - started) / 1000);
      this.options.metrics.inc("cube_placements_total", "Tasks placed on a node.", {}, result.placements.length);
      store.transaction(() => {
        for (const p of result.placements) {
          const task = byIndex.get(p.index) as Task;
          const placed = ledger.place(task, p.nodeId, p.reservedPorts, `placed on ${p.score.nodeName}`, now);
          cluster.add(placed);
        }
        for (const f of result.failures) {
          const task = byIndex.get(f.index) as Task;
          const message = `no node can run it: ${summarizeReasons(f.reasons) || "no nodes registered"}`;
          if (task.message !== message) ledger.note(task, message, now);
        }
      });
    }
  }

  private placeSystemTask(job: Job, group: string, index: number, nodeId: string, cluster: ClusterIndex, now: number): void {
    const spec = job.spec.tasks.find((g) => g.name === group) as TaskSpec;
    const result = placeTasks({ job: job.spec, group: spec, indexes: [index], algorithm: job.spec.scheduler ?? this.options.algorithm, seed: `${job.spec.name}/${nodeId}`, onlyNodes: [nodeId] }, cluster);
    const placement = result.placements[0];
    // A node that fails the job's constraints or lacks room simply does not run this system job.
    if (!placement) return;
    const task = this.createPending(job, group, index, now);
    cluster.add(this.options.ledger.place(task, placement.nodeId, placement.reservedPorts, `placed on ${placement.score.nodeName}`, now));
  }
}
