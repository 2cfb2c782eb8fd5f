import type { JobVersion } from "../model/api-types.ts";
import type { Job } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { Task } from "../model/task.ts";
import { ClusterState, type StateObserver } from "./cluster-state.ts";

/** What changed in a ClusterState, as values another thread's copy applies (StateCopy). */
export interface StateDelta {
  /** The first part of everything the state holds: the copy starts again from this. */
  full: boolean;
  /** More parts of this delta follow (a whole state is sent in parts of WHOLE_PART_TASKS tasks). */
  more?: boolean;
  jobs: { job: Job; versions: JobVersion[] }[];
  goneJobs: string[];
  tasks: Task[];
  goneTasks: string[];
  nodes: Node[];
}

/**
 * A whole state is sent in parts of this many tasks: at a million tasks, one part would be a JSON
 * text of 400 MB, made and copied at once.
 */
const WHOLE_PART_TASKS = 20_000;

/** Heartbeats alone are sent this often: nothing waits on them, and 5,000 nodes beat 1,600 times a second. */
const BEATS_EVERY_MS = 250;

/**
 * Follows a ClusterState's changes by key and sends them as deltas, reading each value when it
 * sends. Changes are sent in a microtask after they are made, so a delta goes out before the answer
 * of the request that made the change (both go over the same channel, in order): a caller that reads
 * after its write sees it. Heartbeats wait up to BEATS_EVERY_MS, or for the next change.
 */
export class StateFeed implements StateObserver {
  private readonly tasks = new Set<string>();
  private readonly jobs = new Set<string>();
  private readonly nodes = new Set<string>();
  private full = true;
  private queued = false;
  private beatTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly state: ClusterState,
    private readonly send: (delta: StateDelta) => void,
  ) {
    state.observe(this);
  }

  /** Stops following the state. */
  close(): void {
    this.state.observe(null);
    if (this.beatTimer) clearTimeout(this.beatTimer);
    this.beatTimer = null;
  }

  task(id: string): void {
    this.tasks.add(id);
    this.queue();
  }

  job(name: string): void {
    this.jobs.add(name);
    this.queue();
  }

  node(id: string): void {
    this.nodes.add(id);
    this.queue();
  }

  beat(id: string): void {
    this.nodes.add(id);
    this.beatTimer ??= setTimeout(() => this.flush(), BEATS_EVERY_MS);
  }

  reset(): void {
    this.full = true;
    this.queue();
  }

  /** Sends what changed since the last delta (the whole state, the first time and after a reset). */
  flush(): void {
    this.queued = false;
    if (this.beatTimer) clearTimeout(this.beatTimer);
    this.beatTimer = null;
    if (!this.full && this.tasks.size === 0 && this.jobs.size === 0 && this.nodes.size === 0) return;
    const deltas = this.full ? this.everything() : [this.changes()];
    this.full = false;
    this.tasks.clear();
    this.jobs.clear();
    this.nodes.clear();
    for (const delta of deltas) this.send(delta);
  }

  private queue(): void {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => this.flush());
  }

  private everything(): StateDelta[] {
    const { state } = this;
    const jobs = [...state.jobNames()].map((name) => jobValue(state, name) as StateDelta["jobs"][number]);
    const tasks = [...state.tasks.all()];
    const parts: StateDelta[] = [{ full: true, jobs, goneJobs: [], tasks: tasks.slice(0, WHOLE_PART_TASKS), goneTasks: [], nodes: [...state.nodeList()] }];
    for (let at = WHOLE_PART_TASKS; at < tasks.length; at += WHOLE_PART_TASKS) {
      parts.push({ full: false, jobs: [], goneJobs: [], tasks: tasks.slice(at, at + WHOLE_PART_TASKS), goneTasks: [], nodes: [] });
    }
    for (const part of parts.slice(0, -1)) part.more = true;
    return parts;
  }

  private changes(): StateDelta {
    const { state } = this;
    const delta: StateDelta = { full: false, jobs: [], goneJobs: [], tasks: [], goneTasks: [], nodes: [] };
    for (const name of this.jobs) {
      const value = jobValue(state, name);
      if (value) delta.jobs.push(value);
      else delta.goneJobs.push(name);
    }
    for (const id of this.tasks) {
      const task = state.tasks.get(id);
      if (task) delta.tasks.push(task);
      else delta.goneTasks.push(id);
    }
    for (const id of this.nodes) {
      const node = state.node(id);
      if (node) delta.nodes.push(node);
    }
    return delta;
  }
}

function jobValue(state: ClusterState, name: string): StateDelta["jobs"][number] | undefined {
  const entry = state.job(name);
  return entry && { job: entry.job, versions: [...entry.versions.values()] };
}

/**
 * A copy of a ClusterState that follows a StateFeed's deltas. A whole state, sent in parts, is built
 * aside and replaces the copy once its last part came, so a reader never sees half of one.
 */
export class StateCopy {
  state: ClusterState | null = null;
  private building: ClusterState | null = null;

  /** Applies a delta; true when it made `state` a new object (a whole state came). */
  apply(delta: StateDelta): boolean {
    if (delta.full) this.building = new ClusterState();
    const target = this.building ?? this.state;
    if (!target) return false;
    for (const name of delta.goneJobs) target.deleteJob(name);
    for (const { job, versions } of delta.jobs) target.replaceJob(job, new Map(versions.map((v) => [v.version, v])));
    for (const id of delta.goneTasks) target.deleteTask(id);
    for (const task of delta.tasks) target.putTask(task);
    for (const node of delta.nodes) target.putNode(node);
    if (!this.building || delta.more) return false;
    this.state = this.building;
    this.building = null;
    return true;
  }
}
