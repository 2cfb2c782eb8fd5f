import type { Task } from "../model/task.ts";
import { isGone, isTerminal } from "../model/task-state.ts";
import type { ChangeSet, NewEvent, PutJobResult } from "./change-set.ts";
import type { ClusterState } from "./cluster-state.ts";

/** What a committed change set means for the rest of the control plane. */
export interface Effects {
  /** Cluster events to publish, in order. */
  events: NewEvent[];
  /** Nodes whose assignments changed in a way their worker must act on. */
  wake: Set<string>;
  /** Jobs to evaluate. */
  jobs: Set<string>;
  /** A task stopped holding resources on a node, so a blocked job may fit now. */
  capacityFreed: boolean;
  /** Nodes whose durable fields changed: joined, status, eligibility, capacity. */
  nodes: Set<string>;
}

/**
 * Applies a change set that the store has accepted to the in-memory state (`jobResults`: what the
 * store answered to each job write, in order) and derives what it means, from each task's value
 * before and after: a worker is woken for a task placed on it, a changed `desired`, a task lost or
 * forgotten while it still runs there — never for the worker's own reports; a job is evaluated when
 * one of its tasks went away, was asked to stop or was forgotten, or changed while a rollout, a
 * dependency or a drain waits on its health.
 * Task changes of the job being evaluated (`evaluating`) do not mark it again: the evaluation that
 * made them already took them into account.
 */
export function applyChanges(state: ClusterState, changes: ChangeSet, jobResults: readonly PutJobResult[], evaluating?: string): Effects {
  const effects: Effects = { ...noEffects(), events: [...changes.events] };
  const before = new Map<string, Task | undefined>();
  const remember = (id: string, old: Task | undefined) => {
    if (!before.has(id)) before.set(id, old);
  };
  const deleted = new Set<string>();
  let results = 0;
  for (const change of changes.changes) {
    switch (change.kind) {
      case "putJob": {
        const result = jobResults[results++] as PutJobResult;
        state.putJob(result, change.autoRevert, change.reason);
        effects.jobs.add(change.spec.name);
        deleted.delete(change.spec.name);
        effects.events.push({ at: changes.now, type: "job", job: change.spec.name, message: change.describe(result) });
        break;
      }
      case "jobStatus":
        state.setJobStatus(change.name, change.status, changes.now);
        effects.jobs.add(change.name);
        break;
      case "rolloutFailure":
        state.setRolloutFailure(change.name, change.version, change.reason);
        break;
      case "deleteJob":
        for (const task of state.deleteJob(change.name)) remember(task.id, task);
        deleted.add(change.name);
        break;
      case "deleteVersion":
        state.deleteVersion(change.name, change.version);
        break;
      case "task": {
        const { task } = changes.tasks.get(change.id) as { task: Task };
        remember(task.id, state.putTask(task));
        break;
      }
      case "deleteTask":
        remember(change.id, state.deleteTask(change.id));
        break;
      case "node":
        state.putNode(change.node);
        effects.nodes.add(change.node.id);
        break;
      case "taskEvent":
      case "secret":
      case "deleteSecret":
      case "keyring":
        break;
    }
  }
  taskEffects(state, before, effects, evaluating);
  for (const job of deleted) effects.jobs.delete(job);
  return effects;
}

export const noEffects = (): Effects => ({ events: [], wake: new Set(), jobs: new Set(), capacityFreed: false, nodes: new Set() });

/** Adds to `effects` what the tasks' changes mean, from each task's value before (in `before`) and now (in state). */
export function taskEffects(state: ClusterState, before: ReadonlyMap<string, Task | undefined>, effects: Effects, evaluating?: string): void {
  const rollouts = new Set<string>();
  for (const [id, old] of before) diffTask(old, state.tasks.get(id), effects, rollouts, evaluating);
  for (const job of rollouts) {
    const entry = state.job(job);
    if (!entry) continue;
    // A rollout waits on its tasks' health; so do a group waiting for its dependencies (depends_on) and a drain's migration.
    if (state.tasks.hasOutdated(job, entry.job.version) || entry.job.spec.tasks.some((t) => t.dependsOn?.length) || state.migrating(job)) effects.jobs.add(job);
  }
}

function diffTask(old: Task | undefined, now: Task | undefined, effects: Effects, rollouts: Set<string>, evaluating: string | undefined): void {
  const job = (now ?? old)?.job as string;
  const wasLive = old !== undefined && !isGone(old.state);
  const wentAway = wasLive && (now === undefined || isGone(now.state));
  const desiredChanged = old !== undefined && now !== undefined && old.desired !== now.desired;

  if (now?.nodeId && (old?.nodeId !== now.nodeId || desiredChanged || (now.state === "lost" && old?.state !== "lost"))) effects.wake.add(now.nodeId);
  if (!now && old?.nodeId && !isTerminal(old.state)) effects.wake.add(old.nodeId);
  if (wentAway && old?.nodeId) effects.capacityFreed = true;

  if (job === evaluating) return;
  // A task forgotten (garbage collected) is history the job's reconcile read: a slot's failures, say.
  if (wentAway || desiredChanged || now === undefined) effects.jobs.add(job);
  else if (old && now && !isGone(now.state) && (old.state !== now.state || old.health !== now.health)) rollouts.add(job);
}
