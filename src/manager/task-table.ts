import type { Task } from "../model/task.ts";
import { isGone, isTerminal, TASK_STATES, type TaskState } from "../model/task-state.ts";
import { SortedKeys } from "./sorted-keys.ts";

/** Where a task sorts in lists: job, group, slot, creation (then id, so the order is total). */
export type TaskKey = readonly [job: string, group: string, index: number, createdAt: number, id: string];

export const keyOf = (t: Task): TaskKey => [t.job, t.group, t.index, t.createdAt, t.id];

const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function compareKeys(a: TaskKey, b: TaskKey): number {
  return text(a[0], b[0]) || text(a[1], b[1]) || a[2] - b[2] || a[3] - b[3] || text(a[4], b[4]);
}

const compareTasks = (a: Task, b: Task) => compareKeys(keyOf(a), keyOf(b));

/**
 * One job's tasks in list order, and counts kept as tasks change. Tasks added or removed since the
 * list was last read wait aside and are merged in at the next read (a job being placed gets thousands
 * of tasks, a hundred at a time, while it is read now and then).
 */
class JobTasks {
  readonly ids = new Set<string>();
  sorted: Task[] = [];
  readonly added = new Map<string, Task>();
  readonly removed = new Set<string>();
  readonly pending = new Set<string>();
  /** Counts the changes to the job's tasks that can change what its reconcile decides (see `generation`). */
  generation = 0;
  /** Live (not gone) tasks per job version. */
  readonly liveByVersion = new Map<number, number>();
}

export interface TaskFilter {
  job?: string;
  nodeId?: string;
  state?: TaskState;
}

/** A filter on one state walks that state's tasks (sorted) when they are fewer than this share of all tasks; else it walks the list order. */
const SORT_STATE_BELOW = 1 / 8;

/**
 * Every task the manager knows, in memory, with the indexes the control plane reads: by job (in list
 * order), by node (all, and those not finished), by state; per job the pending tasks and the live
 * ones per version. Every change is one `put` or `delete`, in time proportional to the task.
 */
export class TaskTable {
  private readonly byId = new Map<string, Task>();
  private readonly jobs = new Map<string, JobTasks>();
  private readonly jobOrder = new SortedKeys();
  private readonly byNode = new Map<string, Set<string>>();
  /** Tasks on a node that are not finished (live, or lost and waiting for the node to say it stopped them). */
  private readonly activeByNode = new Map<string, Set<string>>();
  /** Ids of the tasks that came, changed or went in each node's active set since `takeChangedOn` took the node's. */
  private readonly changedOnNode = new Map<string, Set<string>>();
  private readonly byState = new Map<TaskState, Set<string>>(TASK_STATES.map((s) => [s, new Set()]));
  /** Jobs with pending tasks: those the scheduler could not place yet (Nomad's blocked evaluations). */
  private readonly pendingJobs = new Set<string>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Task | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<Task> {
    return this.byId.values();
  }

  /** Inserts or replaces the task with its id; returns what was there before. */
  put(task: Task): Task | undefined {
    const old = this.byId.get(task.id);
    if (old) this.unindex(old, true);
    this.byId.set(task.id, task);
    this.index(task, old === undefined);
    if (!old || isGone(old.state) !== isGone(task.state) || old.desired !== task.desired || old.jobVersion !== task.jobVersion) (this.jobs.get(task.job) as JobTasks).generation++;
    return old;
  }

  delete(id: string): Task | undefined {
    const old = this.byId.get(id);
    if (!old) return undefined;
    this.unindex(old, false);
    this.byId.delete(id);
    return old;
  }

  /** The job's tasks in list order (a fresh array). */
  ofJob(job: string): Task[] {
    const entry = this.jobs.get(job);
    return entry ? [...this.sortedOf(entry)] : [];
  }

  /** The job's pending tasks (waiting for a node), by slot. */
  pendingOf(job: string): Task[] {
    return this.tasksOf(this.jobs.get(job)?.pending).sort((a, b) => a.index - b.index);
  }

  /**
   * Changes when a task of the job is added or removed, or goes away, or its desired state or version
   * changes: what decides which slots are filled. A task that starts running or changes health does
   * not count (it matters only to rollouts, which are reconciled each time).
   */
  generation(job: string): number {
    return this.jobs.get(job)?.generation ?? 0;
  }

  /** Every task that has a node, finished ones included. */
  onNode(nodeId: string): Task[] {
    return this.tasksOf(this.byNode.get(nodeId));
  }

  /** Tasks on the node that are not finished: what its worker is told about. */
  activeOn(nodeId: string): Task[] {
    return this.tasksOf(this.activeByNode.get(nodeId));
  }

  /**
   * Ids of the tasks that came into the node's active set, were replaced in it or left it since the
   * last call for the node (what a delta of its assignments names); forgotten once taken.
   */
  takeChangedOn(nodeId: string): ReadonlySet<string> {
    const ids = this.changedOnNode.get(nodeId);
    this.changedOnNode.delete(nodeId);
    return ids ?? new Set();
  }

  /** Jobs with a task not finished on the node. */
  jobsOn(nodeId: string): Set<string> {
    return new Set(this.activeOn(nodeId).map((t) => t.job));
  }

  countInState(state: TaskState): number {
    return this.byState.get(state)?.size ?? 0;
  }

  /** Jobs that have tasks waiting for a node. */
  blockedJobs(): ReadonlySet<string> {
    return this.pendingJobs;
  }

  /** Whether live tasks of the job run another version than `version` (a rollout is under way). */
  hasOutdated(job: string, version: number): boolean {
    const live = this.jobs.get(job)?.liveByVersion;
    if (!live) return false;
    for (const v of live.keys()) if (v !== version) return true;
    return false;
  }

  /** Up to `limit` tasks matching the filter, in list order, after `after` (from the start when undefined). */
  page(filter: TaskFilter, after: TaskKey | undefined, limit: number): Task[] {
    const matches = (t: Task) => (filter.nodeId === undefined || t.nodeId === filter.nodeId) && (filter.state === undefined || t.state === filter.state);
    const out: Task[] = [];
    for (const task of this.candidates(filter, after)) {
      if (!matches(task)) continue;
      out.push(task);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The narrowest index for the filter, in list order from after `after`. */
  private *candidates(filter: TaskFilter, after: TaskKey | undefined): Generator<Task> {
    if (filter.job !== undefined) {
      const entry = this.jobs.get(filter.job);
      if (entry) yield* fromKey(this.sortedOf(entry), after);
      return;
    }
    if (filter.nodeId !== undefined) {
      yield* fromKey(this.onNode(filter.nodeId).sort(compareTasks), after);
      return;
    }
    const ofState = filter.state === undefined ? undefined : this.byState.get(filter.state);
    if (ofState && ofState.size < this.byId.size * SORT_STATE_BELOW) {
      yield* fromKey(this.tasksOf(ofState).sort(compareTasks), after);
      return;
    }
    // The rest of the job of `after` first, then the jobs after it.
    const current = after === undefined ? undefined : this.jobs.get(after[0]);
    if (current) yield* fromKey(this.sortedOf(current), after);
    for (const job of this.jobOrder.from(after?.[0])) yield* this.sortedOf(this.jobs.get(job) as JobTasks);
  }

  private sortedOf(entry: JobTasks): Task[] {
    if (entry.added.size === 0 && entry.removed.size === 0) return entry.sorted;
    const kept = entry.removed.size === 0 ? entry.sorted : entry.sorted.filter((t) => !entry.removed.has(t.id));
    entry.sorted = merge(kept, [...entry.added.values()].sort(compareTasks));
    entry.added.clear();
    entry.removed.clear();
    return entry.sorted;
  }

  private tasksOf(ids: Set<string> | undefined): Task[] {
    const tasks: Task[] = [];
    for (const id of ids ?? []) tasks.push(this.byId.get(id) as Task);
    return tasks;
  }

  private index(task: Task, inserted: boolean): void {
    let entry = this.jobs.get(task.job);
    if (!entry) {
      this.jobs.set(task.job, (entry = new JobTasks()));
      this.jobOrder.add(task.job);
    }
    entry.ids.add(task.id);
    if (inserted || entry.added.has(task.id)) entry.added.set(task.id, task);
    else entry.sorted[positionIn(entry.sorted, keyOf(task))] = task;
    if (task.state === "pending") {
      entry.pending.add(task.id);
      this.pendingJobs.add(task.job);
    }
    if (!isGone(task.state)) entry.liveByVersion.set(task.jobVersion, (entry.liveByVersion.get(task.jobVersion) ?? 0) + 1);
    (this.byState.get(task.state) as Set<string>).add(task.id);
    if (task.nodeId !== null) {
      addTo(this.byNode, task.nodeId, task.id);
      if (!isTerminal(task.state)) {
        addTo(this.activeByNode, task.nodeId, task.id);
        addTo(this.changedOnNode, task.nodeId, task.id);
      }
    }
  }

  /** Takes the task out of every index; `replacing` keeps its place in the job's list (the key does not change). */
  private unindex(task: Task, replacing: boolean): void {
    const entry = this.jobs.get(task.job) as JobTasks;
    if (!replacing) {
      entry.ids.delete(task.id);
      if (!entry.added.delete(task.id)) entry.removed.add(task.id);
    }
    if (!replacing) entry.generation++;
    if (entry.pending.delete(task.id) && entry.pending.size === 0) this.pendingJobs.delete(task.job);
    if (!isGone(task.state)) {
      const n = (entry.liveByVersion.get(task.jobVersion) ?? 0) - 1;
      if (n > 0) entry.liveByVersion.set(task.jobVersion, n);
      else entry.liveByVersion.delete(task.jobVersion);
    }
    if (entry.ids.size === 0) {
      this.jobs.delete(task.job);
      this.jobOrder.delete(task.job);
    }
    this.byState.get(task.state)?.delete(task.id);
    if (task.nodeId !== null) {
      removeFrom(this.byNode, task.nodeId, task.id);
      if (removeFrom(this.activeByNode, task.nodeId, task.id)) addTo(this.changedOnNode, task.nodeId, task.id);
    }
  }
}

function addTo(index: Map<string, Set<string>>, key: string, id: string): void {
  let ids = index.get(key);
  if (!ids) index.set(key, (ids = new Set()));
  ids.add(id);
}

/** False when the id was not there. */
function removeFrom(index: Map<string, Set<string>>, key: string, id: string): boolean {
  const ids = index.get(key);
  if (!ids?.delete(id)) return false;
  if (ids.size === 0) index.delete(key);
  return true;
}

/** The position of the first task whose key is not before `key`. */
function positionIn(sorted: readonly Task[], key: TaskKey): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keyOf(sorted[mid] as Task), key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Two lists in list order, as one. */
function merge(a: readonly Task[], b: readonly Task[]): Task[] {
  if (b.length === 0) return a as Task[];
  const out: Task[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = compareTasks(a[i] as Task, b[j] as Task) <= 0 ? (a[i++] as Task) : (b[j++] as Task);
  while (i < a.length) out[k++] = a[i++] as Task;
  while (j < b.length) out[k++] = b[j++] as Task;
  return out;
}

function* fromKey(sorted: readonly Task[], after: TaskKey | undefined): Generator<Task> {
  let at = after === undefined ? 0 : positionIn(sorted, after);
  if (after !== undefined && at < sorted.length && compareKeys(keyOf(sorted[at] as Task), after) === 0) at++;
  for (; at < sorted.length; at++) yield sorted[at] as Task;
}
