import type { Job, JobSpec, TaskSpec } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { Task } from "../model/task.ts";
import { isGone } from "../model/task-state.ts";
import { dependencyHold } from "./dependency-holds.ts";
import { isHealthy, planRollout } from "./rollout.ts";

/** What must change for a job's tasks to match its spec. Pure: the caller writes it down. */
export interface ReconcileDecision {
  /** New tasks to create (pending), each for one replica slot; `nodeId` pins a system job's task. */
  create: { group: string; index: number; nodeId?: string }[];
  stop: { task: Task; reason: string }[];
  /** Live tasks whose spec did not change in a new version (a count-only change): relabel, don't restart. */
  adopt: Task[];
  /** Earliest time something changes by time alone (a failed slot's delay, a rollout's health); the caller wakes the reconciler then. */
  wakeAt: number | null;
  /** A rolling update that failed, and the version to go back to when the update asks for it. */
  rolloutFailure: { group: string; reason: string; revertTo: number | null } | null;
  /** Groups whose new tasks wait for their dependencies (created, but not placed), with why. */
  held: Map<string, string>;
}

export interface ReconcileInput {
  job: Job;
  /** Every task of the job the store still has, live or gone. */
  tasks: Task[];
  /** Specs of the versions live tasks run, by version (at least those differing from the current one). */
  versions: ReadonlyMap<number, JobSpec>;
  nodes: readonly Node[];
  /** Ids of the nodes being drained: their tasks are moved elsewhere (see migrate). */
  draining?: ReadonlySet<string>;
  now: number;
}

/** Replacement delay for a slot that keeps failing: 5 s, 10 s, 20 s … capped at 5 min. */
export const RESCHEDULE_BASE_MS = 5_000;
export const RESCHEDULE_MAX_MS = 5 * 60_000;

export function rescheduleDelay(consecutiveFailures: number): number {
  if (consecutiveFailures <= 0) return 0;
  return Math.min(RESCHEDULE_BASE_MS * 2 ** (consecutiveFailures - 1), RESCHEDULE_MAX_MS);
}

/**
 * The parts of a task spec that need a new container when they change: count, the update strategy,
 * what the task publishes (services, ingress, shutdown delay: the catalog's business) and what its
 * first start waits for do not.
 */
function runtimeShape(spec: TaskSpec): string {
  const { count: _count, update: _update, services: _services, ingress: _ingress, shutdownDelayMs: _delay, dependsOn: _dependsOn, ...rest } = spec;
  return JSON.stringify(rest);
}

/** Picks the task to keep when a slot holds several: the most advanced, then the newest. */
function rank(task: Task): number {
  return { running: 4, restarting: 3, scheduled: 2, pending: 1 }[task.state as "running" | "restarting" | "scheduled" | "pending"] ?? 0;
}

function slotKey(group: string, index: number): string {
  return `${group}\u0000${index}`;
}

/**
 * Compares a job's spec with its tasks and says what to create, stop and relabel.
 * @example reconcile({ job, tasks: [], versions: new Map(), nodes, now }).create.length // = count
 */
export function reconcile(input: ReconcileInput): ReconcileDecision {
  const { job, tasks, now } = input;
  const decision: ReconcileDecision = { create: [], stop: [], adopt: [], wakeAt: null, rolloutFailure: null, held: new Map() };
  const live = tasks.filter((t) => !isGone(t.state) && t.desired === "running");

  if (job.status === "stopped") {
    decision.stop = live.map((task) => ({ task, reason: "job stopped" }));
    return decision;
  }

  const groups = new Map(job.spec.tasks.map((g) => [g.name, g]));
  const kept = new Map<string, Task>();
  const outdated: Task[] = [];
  for (const task of [...live].sort((a, b) => rank(b) - rank(a) || b.createdAt - a.createdAt)) {
    const group = groups.get(task.group);
    if (!group) {
      decision.stop.push({ task, reason: `task ${task.group} was removed from the job` });
      continue;
    }
    if (job.spec.type !== "system" && task.index >= group.count) {
      decision.stop.push({ task, reason: `scaled down to ${group.count}` });
      continue;
    }
    const key = slotKey(task.group, task.index);
    if (kept.has(key)) {
      decision.stop.push({ task, reason: "duplicate of another task in the same slot" });
      continue;
    }
    if (task.jobVersion !== job.version) {
      const old = input.versions.get(task.jobVersion)?.tasks.find((g) => g.name === task.group);
      if (!old || runtimeShape(old) !== runtimeShape(group)) {
        outdated.push(task);
        kept.set(key, task);
        continue;
      }
      decision.adopt.push(task);
    }
    kept.set(key, task);
  }

  for (const group of job.spec.tasks) migrate(input, group, kept, decision);
  for (const group of job.spec.tasks) rollOut(input, group, kept, outdated.filter((t) => kept.get(slotKey(t.group, t.index)) === t), decision);

  for (const group of job.spec.tasks) {
    if (job.spec.type === "system") planSystemGroup(input, group, kept, decision);
    else planCountedGroup(input, group, kept, decision, now);
    const hold = dependencyHold(job, group, tasks);
    if (hold !== null) decision.held.set(group.name, hold);
  }
  return decision;
}

function planCountedGroup(input: ReconcileInput, group: TaskSpec, kept: Map<string, Task>, decision: ReconcileDecision, now: number): void {
  // Each slot's tasks of the current version, found in one pass (not one per slot: a group may have thousands).
  const slots = Map.groupBy(
    input.tasks.filter((t) => t.group === group.name && t.jobVersion === input.job.version),
    (t) => t.index,
  );
  for (let index = 0; index < group.count; index++) {
    if (kept.has(slotKey(group.name, index))) continue;
    const history = [...(slots.get(index) ?? [])].sort((a, b) => a.createdAt - b.createdAt);
    // A batch slot is done once it has finished, successfully or not (its restarts happened on the worker);
    // a failure without an exit code never ran (its image could not be had): the slot waits for the image.
    if (input.job.spec.type === "batch" && history.some((t) => t.state === "completed" || (t.state === "failed" && t.exitCode !== null))) continue;
    // A one-off step of a service job (restart on failure only) is done once it completed.
    if (group.restart.condition === "on-failure" && history.some((t) => t.state === "completed")) continue;
    const failures = trailingFailures(history);
    const last = history.at(-1);
    const readyAt = (last?.finishedAt ?? last?.updatedAt ?? 0) + rescheduleDelay(failures);
    if (failures > 0 && readyAt > now) {
      decision.wakeAt = Math.min(decision.wakeAt ?? readyAt, readyAt);
      continue;
    }
    decision.create.push({ group: group.name, index });
  }
}

/**
 * Moves a group's tasks off draining nodes: a service group with an update strategy keeps at most
 * max_parallel of its slots unhealthy, so a healthy task leaves only when there is room (Nomad's
 * migrate); anything else leaves at once. The emptied slots are placed elsewhere like any other.
 */
function migrate(input: ReconcileInput, group: TaskSpec, kept: Map<string, Task>, decision: ReconcileDecision): void {
  const { job, now, draining } = input;
  if (!draining || draining.size === 0) return;
  const mine = [...kept.values()].filter((t) => t.group === group.name);
  const leaving = mine.filter((t) => t.nodeId !== null && draining.has(t.nodeId));
  if (leaving.length === 0) return;
  const healthy = (t: Task) => isHealthy(t, group, now);
  const update = job.spec.type === "service" ? group.update : undefined;
  let room = update ? Math.max(0, update.maxParallel - (group.count - mine.filter(healthy).length)) : Number.POSITIVE_INFINITY;
  // Tasks that serve nothing yet go first: they cost no room.
  for (const task of leaving.sort((a, b) => Number(healthy(a)) - Number(healthy(b)) || a.index - b.index)) {
    if (healthy(task)) {
      if (room <= 0) {
        // Waiting for replacements: one that runs becomes healthy by time alone.
        for (const t of mine) {
          if (t.state === "running" && t.startedAt !== null && !healthy(t)) decision.wakeAt = Math.min(decision.wakeAt ?? Infinity, t.startedAt + (update?.minHealthyTimeMs ?? 0));
        }
        return;
      }
      room--;
    }
    decision.stop.push({ task, reason: `node ${input.nodes.find((n) => n.id === task.nodeId)?.name ?? task.nodeId} is draining` });
    kept.delete(slotKey(task.group, task.index));
  }
}

/** Replaces a group's outdated tasks, all at once or, with an update strategy, a few at a time. */
function rollOut(input: ReconcileInput, group: TaskSpec, kept: Map<string, Task>, outdated: Task[], decision: ReconcileDecision): void {
  const { job, now } = input;
  const mine = outdated.filter((t) => t.group === group.name);
  const current = [...kept.values()].filter((t) => t.group === group.name && t.jobVersion === job.version);
  const history = input.tasks.filter((t) => t.group === group.name && t.jobVersion === job.version);
  const plan = planRollout(group, current, mine, history, now);
  for (const task of plan.replace) {
    decision.stop.push({ task, reason: `replaced by job version ${job.version}` });
    kept.delete(slotKey(task.group, task.index));
  }
  if (plan.wakeAt !== null) decision.wakeAt = Math.min(decision.wakeAt ?? plan.wakeAt, plan.wakeAt);
  if (plan.failure && !decision.rolloutFailure) {
    const from = Math.max(...mine.map((t) => t.jobVersion));
    decision.rolloutFailure = { group: group.name, reason: plan.failure, revertTo: group.update?.autoRevert ? from : null };
  }
}

function trailingFailures(history: Task[]): number {
  let count = 0;
  for (let i = history.length - 1; i >= 0 && history[i]?.state === "failed"; i--) count++;
  return count;
}

/** A system job wants one task on every ready, eligible node of its datacenters. */
function planSystemGroup(input: ReconcileInput, group: TaskSpec, kept: Map<string, Task>, decision: ReconcileDecision): void {
  const { job } = input;
  const covered = new Set<string>();
  const used = new Set<number>();
  for (const task of kept.values()) {
    if (task.group !== group.name) continue;
    used.add(task.index);
    if (task.nodeId) covered.add(task.nodeId);
  }
  let next = 0;
  for (const node of input.nodes) {
    if (node.status !== "ready" || !node.eligible || covered.has(node.id)) continue;
    if (job.spec.datacenters.length > 0 && !job.spec.datacenters.includes(node.datacenter)) continue;
    while (used.has(next)) next++;
    used.add(next);
    decision.create.push({ group: group.name, index: next, nodeId: node.id });
  }
}
