import type { JobVersion } from "../model/api-types.ts";
import type { Job } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { Task } from "../model/task.ts";
import { isGone } from "../model/task-state.ts";
import { ClusterIndex } from "../scheduler/index.ts";
import type { Store } from "../store/index.ts";
import type { PutJobResult } from "./change-set.ts";
import { SortedKeys } from "./sorted-keys.ts";
import { TaskTable } from "./task-table.ts";

/** A job with every version the store keeps of it. */
export interface JobEntry {
  job: Job;
  versions: Map<number, JobVersion>;
}

/**
 * Told of every change to the state, by key, so a copy in another thread can follow it
 * (state-feed.ts): it reads the values when it sends them.
 */
export interface StateObserver {
  task(id: string): void;
  job(name: string): void;
  node(id: string): void;
  /** Only a node's heartbeat moved (its stats and time): no reader waits for it. */
  beat(id: string): void;
  /** Everything may have changed (a reload). */
  reset(): void;
}

/** Whether a task holds resources on its node: placed and not gone. */
const holds = (task: Task) => task.nodeId !== null && !isGone(task.state);

/**
 * The control plane's view of the cluster, in memory: jobs with their versions, tasks with their
 * indexes (TaskTable), nodes, and the scheduler's ClusterIndex, all kept current as changes are
 * committed (never rebuilt per event). Loaded from the store once; the store stays the durable
 * record and is written first (commit.ts), so only `applyChanges` calls the writing methods here.
 * Heartbeats are the exception: a node's stats and last heartbeat live here only.
 */
export class ClusterState {
  private taskTable = new TaskTable();
  private clusterIndex = new ClusterIndex();
  private jobs = new Map<string, JobEntry>();
  private jobOrder = new SortedKeys();
  private systemJobs = new Set<string>();
  /**
   * System jobs whose last evaluation found a node it could not place on (a system job makes no
   * pending task to wait there). Kept by the evaluator, not the store: like blocked jobs, they are
   * evaluated again when capacity frees.
   */
  readonly unplacedSystemJobs = new Set<string>();
  private nodes = new Map<string, Node>();
  private nodeIds = new Map<string, string>();
  private nodeOrder = new SortedKeys();
  private nodeArray: Node[] | null = null;
  private drainingNodes = new Set<string>();
  private observer: StateObserver | null = null;

  /** Tells `observer` of every change from now on (one at a time; null: none). */
  observe(observer: StateObserver | null): void {
    this.observer = observer;
  }

  get tasks(): TaskTable {
    return this.taskTable;
  }

  get cluster(): ClusterIndex {
    return this.clusterIndex;
  }

  /**
   * Everything again from the store, for when memory got ahead of it (a transaction that failed after
   * commits inside it were applied); heartbeats, which only memory has, are kept.
   */
  reload(store: Store): void {
    const loaded = ClusterState.load(store);
    for (const node of loaded.nodes.values()) {
      const seen = this.nodes.get(node.id);
      if (seen) Object.assign(node, { stats: seen.stats, lastHeartbeat: seen.lastHeartbeat });
    }
    ({ taskTable: this.taskTable, clusterIndex: this.clusterIndex, jobs: this.jobs, jobOrder: this.jobOrder, systemJobs: this.systemJobs } = loaded);
    ({ nodes: this.nodes, nodeIds: this.nodeIds, nodeOrder: this.nodeOrder, drainingNodes: this.drainingNodes } = loaded);
    this.nodeArray = null;
    this.unplacedSystemJobs.clear();
    this.observer?.reset();
  }

  /** Everything the store holds, read once. */
  static load(store: Store): ClusterState {
    const state = new ClusterState();
    // Copies: heartbeats change a node in memory, never what the store holds.
    for (const node of store.listNodes()) state.putNode({ ...node });
    const versions = store.listAllJobVersions();
    for (const job of store.listJobs()) {
      state.addJob(job, new Map((versions.get(job.spec.name) ?? []).map((v) => [v.version, v])));
    }
    for (const task of store.listTasks()) state.putTask(task);
    return state;
  }

  job(name: string): JobEntry | undefined {
    return this.jobs.get(name);
  }

  get jobCount(): number {
    return this.jobs.size;
  }

  /** Job names in order, after `after` (all when undefined). */
  jobNames(after?: string): Generator<string> {
    return this.jobOrder.from(after);
  }

  systemJobNames(): ReadonlySet<string> {
    return this.systemJobs;
  }

  node(id: string): Node | undefined {
    return this.nodes.get(id);
  }

  nodeByName(name: string): Node | undefined {
    const id = this.nodeIds.get(name);
    return id === undefined ? undefined : this.nodes.get(id);
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  /** Node names in order, after `after` (all when undefined). */
  nodeNames(after?: string): Generator<string> {
    return this.nodeOrder.from(after);
  }

  /** Nodes being drained: their jobs' evaluations stop the tasks there and place them elsewhere. */
  get draining(): ReadonlySet<string> {
    return this.drainingNodes;
  }

  /** Whether a task of the job that is to run is on a draining node (its move waits on its replacements' health). */
  migrating(job: string): boolean {
    if (this.drainingNodes.size === 0) return false;
    return this.taskTable.ofJob(job).some((t) => t.nodeId !== null && this.drainingNodes.has(t.nodeId) && t.desired === "running" && !isGone(t.state));
  }

  /** Every node, by name (the same array until a node's durable fields change). */
  nodeList(): readonly Node[] {
    if (!this.nodeArray) this.nodeArray = [...this.nodeOrder.from()].map((name) => this.nodeByName(name) as Node);
    return this.nodeArray;
  }

  putJob(result: PutJobResult, autoRevert: boolean, reason?: string): void {
    const { job } = result;
    this.observer?.job(job.spec.name);
    const entry = this.jobs.get(job.spec.name);
    const version: JobVersion = { version: job.version, spec: job.spec, createdAt: job.updatedAt, rolloutFailure: null, autoRevert, ...(reason !== undefined ? { reason } : {}) };
    if (!entry) {
      this.addJob(job, new Map([[job.version, version]]));
      return;
    }
    entry.job = job;
    if (result.changed) entry.versions.set(job.version, version);
    if (job.spec.type === "system") this.systemJobs.add(job.spec.name);
    else this.systemJobs.delete(job.spec.name);
  }

  /** Sets the job and its versions as another manager stored them (a shared store). */
  replaceJob(job: Job, versions: Map<number, JobVersion>): void {
    this.observer?.job(job.spec.name);
    if (!this.jobs.has(job.spec.name)) return this.addJob(job, versions);
    this.jobs.set(job.spec.name, { job, versions });
    if (job.spec.type === "system") this.systemJobs.add(job.spec.name);
    else this.systemJobs.delete(job.spec.name);
  }

  setJobStatus(name: string, status: Job["status"], now: number): void {
    const entry = this.jobs.get(name);
    if (!entry) return;
    entry.job = { ...entry.job, status, updatedAt: now };
    this.observer?.job(name);
  }

  setRolloutFailure(name: string, version: number, reason: string): void {
    const stored = this.jobs.get(name)?.versions.get(version);
    if (!stored) return;
    stored.rolloutFailure = reason;
    this.observer?.job(name);
  }

  deleteVersion(name: string, version: number): void {
    if (this.jobs.get(name)?.versions.delete(version)) this.observer?.job(name);
  }

  /** Forgets the job and its tasks (as the store's cascade does); returns the tasks it had. */
  deleteJob(name: string): Task[] {
    const tasks = this.tasks.ofJob(name);
    for (const task of tasks) this.deleteTask(task.id);
    this.jobs.delete(name);
    this.jobOrder.delete(name);
    this.systemJobs.delete(name);
    this.unplacedSystemJobs.delete(name);
    this.observer?.job(name);
    return tasks;
  }

  /** Inserts or replaces a task; returns what was there before. */
  putTask(task: Task): Task | undefined {
    const old = this.tasks.put(task);
    this.observer?.task(task.id);
    if (holds(task)) this.cluster.add(task);
    else if (old && holds(old)) this.cluster.remove(task.id);
    return old;
  }

  deleteTask(id: string): Task | undefined {
    const old = this.tasks.delete(id);
    if (!old) return undefined;
    this.cluster.remove(id);
    this.observer?.task(id);
    return old;
  }

  /** Inserts or replaces a node (a rename moves it in the order by name); returns what was there before. */
  putNode(node: Node): Node | undefined {
    const old = this.nodes.get(node.id);
    if (old && old.name !== node.name) {
      this.nodeIds.delete(old.name);
      this.nodeOrder.delete(old.name);
    }
    this.nodes.set(node.id, node);
    if (node.status === "draining") this.drainingNodes.add(node.id);
    else this.drainingNodes.delete(node.id);
    this.nodeIds.set(node.name, node.id);
    this.nodeOrder.add(node.name);
    this.nodeArray = null;
    this.cluster.setNode(node);
    this.observer?.node(node.id);
    return old;
  }

  /** A heartbeat: the node's stats and time, which only memory keeps. */
  recordHeartbeat(node: Node, at: number, stats: Node["stats"]): void {
    node.stats = stats;
    node.lastHeartbeat = at;
    this.observer?.beat(node.id);
  }

  private addJob(job: Job, versions: Map<number, JobVersion>): void {
    this.jobs.set(job.spec.name, { job, versions });
    this.jobOrder.add(job.spec.name);
    if (job.spec.type === "system") this.systemJobs.add(job.spec.name);
  }
}
