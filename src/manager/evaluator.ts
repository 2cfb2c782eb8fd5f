import { newId } from "../lib/ids.ts";
import type { Logger } from "../lib/logger.ts";
import type { Job, JobSpec, TaskSpec } from "../model/job.ts";
import type { Task } from "../model/task.ts";
import { type Algorithm, placeTasks, summarizeReasons } from "../scheduler/index.ts";
import { ChangeSet } from "./change-set.ts";
import type { ClusterState, JobEntry } from "./cluster-state.ts";
import type { Commit } from "./commit.ts";
import type { ImageCatalog } from "./image-catalog.ts";
import type { JobTimers } from "./job-timers.ts";
import type { ManagerMetrics } from "./manager-metrics.ts";
import { launchPeriodic } from "./periodic-launcher.ts";
import { type ReconcileDecision, reconcile } from "./reconcile.ts";
import { unkeptSecrets } from "./secret-refs.ts";
import { ledger } from "./task-ledger.ts";
import { type VolumePlacement, volumeHomes, volumePlacement, volumesOf } from "./volume-homes.ts";

export interface EvaluatorOptions {
  state: ClusterState;
  commit: Commit;
  timers: JobTimers;
  /** Marks a job for another evaluation. */
  mark: (job: string) => void;
  /** Marks a job whose step stopped at STEP_WRITES with more to place: its next step comes before other jobs' (EvalQueue.carryOn). */
  carryOn: (job: string) => void;
  metrics: ManagerMetrics;
  images: ImageCatalog;
  algorithm: Algorithm;
  log: Logger;
  now: () => number;
  /** Whether the store still keeps a secret's version (an automatic revert goes only to a version whose values are kept). */
  secretKept: (name: string, version: number) => boolean;
  /** Called with each job evaluated (tests count them). */
  onEvaluate?: (job: string) => void;
}

/**
 * Task writes one evaluation makes at most; a job that needs more is marked again and goes on in
 * the next pass, so a job of 10,000 tasks never holds the event loop (and the API) for long.
 */
export const STEP_WRITES = 100;

type Create = ReconcileDecision["create"][number];

/** What one group's step wrote: task writes in all, how many of its new slots it took, and whether work is left. */
interface Step {
  writes: number;
  created: number;
  more: boolean;
}

/** What is left of an evaluation that stopped at STEP_WRITES, valid while the job and its tasks stay as they were. */
interface Unfinished {
  job: Job;
  generation: number;
  creates: Create[];
  /** A slot waiting for its reschedule delay may be due by then: past it, the job is reconciled again. */
  wakeAt: number | null;
}

/**
 * Evaluates one job against the in-memory cluster: the pure `reconcile` says what to create, stop
 * and relabel, the pure scheduler places new and pending tasks on the long-lived ClusterIndex, and
 * each step is committed before the next reads the state (stops and relabels, then each task group's
 * placements, then a failed rollout's mark and revert). Work is proportional to the job, never to the
 * cluster, and at most STEP_WRITES task writes are made per evaluation.
 */
export class Evaluator {
  private readonly unfinished = new Map<string, Unfinished>();

  constructor(private readonly options: EvaluatorOptions) {}

  evaluate(name: string): void {
    const { state, timers, commit } = this.options;
    this.options.onEvaluate?.(name);
    this.options.metrics.evaluated();
    const entry = state.job(name);
    const left = this.resume(name);
    if (!entry) {
      timers.set(name, null);
      return;
    }
    const { job } = entry;
    const now = this.options.now();
    if (job.spec.schedule !== undefined) return launchPeriodic(this.options, entry, now);
    let decision: ReconcileDecision;
    let budget = STEP_WRITES;
    if (left) {
      // Nothing changed since the last step: go on with what that reconcile found missing.
      decision = { create: left.creates, stop: [], adopt: [], wakeAt: left.wakeAt, rolloutFailure: null, held: new Map() };
    } else {
      decision = reconcile({ job, tasks: state.tasks.ofJob(name), versions: specsOf(entry), nodes: state.nodeList(), draining: state.draining, now });
      timers.set(name, decision.wakeAt);
      const changes = new ChangeSet(now);
      const stops = decision.stop.slice(0, budget);
      const adopts = decision.adopt.slice(0, budget - stops.length);
      for (const { task, reason } of stops) ledger.requestStop(changes, task, reason);
      for (const task of adopts) changes.writeTask({ ...task, jobVersion: job.version, updatedAt: now });
      commit(changes, { evaluating: name });
      budget -= stops.length + adopts.length;
      // A slot is refilled only once its old task was asked to stop, or both would run: the rest waits for the next step.
      if (stops.length < decision.stop.length || adopts.length < decision.adopt.length) {
        this.options.mark(name);
        return;
      }
    }

    let more = false;
    const creates: Create[] = [];
    state.unplacedSystemJobs.delete(name);
    for (const group of job.spec.tasks) {
      const mine = decision.create.filter((c) => c.group === group.name);
      const hold = decision.held.get(group.name);
      const step =
        hold !== undefined
          ? this.holdGroup(job, group, job.spec.type === "system" ? [] : mine, budget, now, hold)
          : job.spec.type === "system"
            ? this.placeSystemGroup(job, group, mine, budget, now)
            : this.placeGroup(job, group, mine, budget, now);
      budget -= step.writes;
      more ||= step.more;
      creates.push(...mine.slice(step.created));
    }
    if (decision.rolloutFailure) this.rolloutFailed(entry, decision.rolloutFailure, now);
    // Stops and relabels change what the job's next reconcile sees (a rollout's room, say): it runs again
    // until it decides nothing more, as the old full passes did.
    if (decision.stop.length > 0 || decision.adopt.length > 0) {
      this.options.mark(name);
      return;
    }
    if (!more) return;
    // A system job's missing tasks depend on the nodes too, and a rollout's steps and dependencies on health,
    // which the generation does not follow: those are reconciled each step.
    const current = state.job(name);
    if (current && job.spec.type !== "system" && decision.held.size === 0 && !state.tasks.hasOutdated(name, current.job.version)) {
      this.unfinished.set(name, { job: current.job, generation: state.tasks.generation(name), creates, wakeAt: decision.wakeAt });
    }
    this.options.carryOn(name);
  }

  /** The rest of the job's last evaluation, if neither the job nor its tasks changed since and no slot came due. */
  private resume(name: string): Unfinished | undefined {
    const left = this.unfinished.get(name);
    this.unfinished.delete(name);
    if (!left) return undefined;
    const same = this.options.state.job(name)?.job === left.job && this.options.state.tasks.generation(name) === left.generation;
    return same && (left.wakeAt === null || this.options.now() < left.wakeAt) ? left : undefined;
  }

  /**
   * Creates the group's missing tasks and places them with its pending ones of the current version,
   * in one commit: new slots first, then pending ones (up to `budget`). Tasks no node can run stay
   * pending with why; once one failed, the rest of the group would too, so only new slots go on.
   */
  private placeGroup(job: Job, group: TaskSpec, creates: Create[], budget: number, now: number): Step {
    const { state, metrics, commit } = this.options;
    const waiting = state.tasks.pendingOf(job.spec.name).filter((t) => t.desired === "running" && t.group === group.name && t.jobVersion === job.version);
    const fresh = creates.slice(0, Math.max(0, budget)).map((c) => pendingTask(job, group.name, c.index, now));
    const candidates = [...fresh, ...waiting].slice(0, Math.max(0, budget));
    if (candidates.length === 0) return { writes: 0, created: 0, more: creates.length + waiting.length > 0 };
    const isFresh = new Set(fresh.map((t) => t.id));
    const byIndex = new Map(candidates.map((t) => [t.index, t]));
    const started = performance.now();
    const imageOn = this.options.images.limitFor(group.image) ?? undefined;
    const volumes = this.volumesOf(job, group);
    const volumeOn = volumes?.limit ?? undefined;
    const result = placeTasks(
      { job: job.spec, group, indexes: [...byIndex.keys()], algorithm: job.spec.scheduler ?? this.options.algorithm, seed: `${job.spec.name}/${job.version}/${now}`, ...(imageOn ? { imageOn } : {}), ...(volumeOn ? { volumeOn } : {}) },
      state.cluster,
    );
    const stranded = volumes?.stranded.length ? `; ${volumes.stranded.join("; ")}` : "";
    metrics.placed((performance.now() - started) / 1000, result.placements.map((p) => byIndex.get(p.index) as Task), now);
    const changes = new ChangeSet(now);
    for (const p of result.placements) {
      const task = byIndex.get(p.index) as Task;
      if (isFresh.has(task.id)) ledger.create(changes, task);
      ledger.place(changes, task, p.nodeId, p.reservedPorts, `placed on ${p.score.nodeName}${stranded}`);
    }
    for (const f of result.failures) {
      const task = byIndex.get(f.index) as Task;
      const message = `no node can run it: ${summarizeReasons(f.reasons) || "no nodes registered"}`;
      if (isFresh.has(task.id)) ledger.create(changes, task);
      if (task.message !== message) ledger.note(changes, task, message);
    }
    commit(changes, { evaluating: job.spec.name });
    const cut = candidates.length < creates.length + waiting.length;
    return { writes: candidates.length, created: fresh.length, more: cut && (creates.length > fresh.length || result.failures.length === 0) };
  }

  /**
   * A group waiting for its dependencies: its new tasks are created pending with why (a system job's are
   * not created: it makes none to wait), and its pending ones say so; none is placed. The job is evaluated
   * again when a task of a group it waits for changes state or health (apply-changes.ts).
   */
  private holdGroup(job: Job, group: TaskSpec, creates: Create[], budget: number, now: number, reason: string): Step {
    const waiting = this.options.state.tasks.pendingOf(job.spec.name).filter((t) => t.desired === "running" && t.group === group.name && t.message !== reason);
    const fresh = creates.slice(0, Math.max(0, budget));
    const noted = waiting.slice(0, Math.max(0, budget - fresh.length));
    const changes = new ChangeSet(now);
    for (const c of fresh) ledger.create(changes, { ...pendingTask(job, group.name, c.index, now), message: reason });
    for (const task of noted) ledger.note(changes, task, reason);
    this.options.commit(changes, { evaluating: job.spec.name });
    return { writes: fresh.length + noted.length, created: fresh.length, more: fresh.length < creates.length || noted.length < waiting.length };
  }

  /** Where a group with named volumes may go (see volume-homes.ts); undefined for a group without, or a system job's (one per node anyway). */
  private volumesOf(job: Job, group: TaskSpec): VolumePlacement | undefined {
    if (!group.volumes?.length || job.spec.type === "system") return undefined;
    const { state } = this.options;
    const versions = state.job(job.spec.name)?.versions;
    const homes = volumeHomes(state.tasks.ofJob(job.spec.name), (t) => volumesOf(t, (v) => versions?.get(v)?.spec));
    return volumePlacement(job.spec.name, group, homes, (id) => state.node(id));
  }

  /** A system job's task is created only on a node that can run it: no pending task waits for one. */
  private placeSystemGroup(job: Job, group: TaskSpec, creates: Create[], budget: number, now: number): Step {
    const { state } = this.options;
    const taken = creates.slice(0, Math.max(0, budget));
    const changes = new ChangeSet(now);
    for (const c of taken) {
      const request = { job: job.spec, group, indexes: [c.index], algorithm: job.spec.scheduler ?? this.options.algorithm, seed: `${job.spec.name}/${c.nodeId}`, onlyNodes: [c.nodeId as string] };
      const placement = placeTasks(request, state.cluster).placements[0];
      if (!placement) {
        state.unplacedSystemJobs.add(job.spec.name);
        continue;
      }
      const task = pendingTask(job, group.name, c.index, now);
      ledger.create(changes, task);
      ledger.place(changes, task, placement.nodeId, placement.reservedPorts, `placed on ${placement.score.nodeName}`);
    }
    this.options.commit(changes, { evaluating: job.spec.name });
    return { writes: taken.length, created: taken.length, more: taken.length < creates.length };
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
    const candidate = failure.revertTo !== null && !current.autoRevert ? versions.get(failure.revertTo) : undefined;
    const unkept = candidate ? unkeptSecrets(candidate.spec, this.options.secretKept) : [];
    const target = unkept.length === 0 ? candidate : undefined;
    const outcome = target ? `; reverting to version ${target.version}` : candidate ? `; not reverted to version ${candidate.version}: the secret values it ran with are no longer kept (${unkept.join(", ")})` : "";
    this.options.log.warn("rollout failed", { job: name, version: job.version, reason: failure.reason, revertTo: target?.version ?? null });
    const changes = new ChangeSet(now);
    changes.rolloutFailed(name, job.version, failure.reason);
    changes.publish({ at: now, type: "job", job: name, message: `rollout of job ${name} version ${job.version} failed: ${failure.reason}${outcome}` });
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
