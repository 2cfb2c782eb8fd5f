import { BadRequestError, ConflictError, NotFoundError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { Metrics } from "../lib/metrics.ts";
import type { Assignment, AssignmentsResponse, JobDetail, JobView, NodeView, PlanResult, SubmitResult, TaskDetail, TaskReport, TaskView } from "../model/api-types.ts";
import type { Job, JobSpec, Resources, TaskSpec } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { Task } from "../model/task.ts";
import { taskName } from "../model/task.ts";
import { isGone, TASK_STATES, type TaskState } from "../model/task-state.ts";
import { type ContainerPolicy, LOCKED_DOWN, policyIssues } from "../model/container-policy.ts";
import { DEFAULT_MAX_TASKS_PER_JOB, jobSizeIssues } from "../model/job-limits.ts";
import { JobValidationError } from "../model/job-validation-error.ts";
import type { Algorithm } from "../scheduler/index.ts";
import type { Store } from "../store/index.ts";
import { AssignmentWatch } from "./assignment-watch.ts";
import { EventBus } from "./event-bus.ts";
import { GarbageCollector } from "./garbage-collector.ts";
import { UsageHistory } from "./usage-history.ts";
import { NodeRegistry } from "./node-registry.ts";
import { Reconciler } from "./reconciler.ts";
import { TaskLedger } from "./task-ledger.ts";
import { applyTaskReport } from "./task-reports.ts";
import { Tokens } from "./tokens.ts";
import { planJob } from "./plan.ts";

export interface ManagerOptions {
  store: Store;
  log: Logger;
  algorithm?: Algorithm;
  heartbeatTtlMs?: number;
  /** Forget finished tasks and dead jobs after this long (default 1 h), keeping this many versions per job (default 10). */
  gcAfterMs?: number;
  keepVersions?: number;
  /** What tasks may ask of their hosts (--allow); default: nothing beyond an ordinary container. */
  containerPolicy?: ContainerPolicy;
  /** Tasks one job may ask for, all groups together (default 10,000). */
  maxTasksPerJob?: number;
  now?: () => number;
}

/** The control plane: what the API calls. Owns the reconciler and node liveness timers. */
export class Manager {
  readonly bus = new EventBus();
  readonly watch = new AssignmentWatch();
  readonly nodes: NodeRegistry;
  readonly garbage: GarbageCollector;
  readonly metrics = new Metrics();
  /** Recent cpu and memory of each node, from heartbeats, for the dashboard's charts. */
  readonly usage = new UsageHistory();
  readonly tokens: Tokens;
  private readonly policy: ContainerPolicy;
  private readonly maxTasksPerJob: number;
  private readonly algorithm: Algorithm;
  private readonly store: Store;
  private readonly ledger: TaskLedger;
  private readonly reconciler: Reconciler;
  private readonly now: () => number;

  constructor(options: ManagerOptions) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.tokens = new Tokens(this.store, this.now);
    this.policy = options.containerPolicy ?? LOCKED_DOWN;
    this.maxTasksPerJob = options.maxTasksPerJob ?? DEFAULT_MAX_TASKS_PER_JOB;
    this.algorithm = options.algorithm ?? "binpack";
    this.ledger = new TaskLedger(this.store, this.bus, this.watch);
    this.reconciler = new Reconciler({ store: this.store, ledger: this.ledger, bus: this.bus, metrics: this.metrics, algorithm: this.algorithm, log: options.log.child("reconciler"), now: this.now });
    this.garbage = new GarbageCollector(this.store, { afterMs: options.gcAfterMs ?? 3_600_000, keepVersions: options.keepVersions ?? 10 }, options.log.child("gc"), this.now);
    this.nodes = new NodeRegistry({
      store: this.store,
      ledger: this.ledger,
      watch: this.watch,
      bus: this.bus,
      log: options.log.child("nodes"),
      heartbeatTtlMs: options.heartbeatTtlMs ?? 10_000,
      onChange: () => this.reconciler.trigger(),
      onHeartbeat: (node) => this.usage.record(node),
      now: this.now,
    });
  }

  start(): void {
    this.nodes.start();
    this.garbage.start();
    this.reconciler.trigger();
  }

  stop(): void {
    this.nodes.stop();
    this.garbage.stop();
    this.reconciler.stop();
  }

  /** Runs the reconciler now and waits for it; for tests that need the placement done. */
  reconcileNow(): void {
    this.reconciler.runOnce();
  }

  /** Every way a job gets stored (submit, scale, revert) passes here, so the manager's limits are checked once. */
  submitJob(spec: JobSpec): SubmitResult {
    const refused = [...jobSizeIssues(spec, this.maxTasksPerJob), ...policyIssues(spec, this.policy)];
    if (refused.length > 0) throw new JobValidationError(refused);
    const { job, created, changed } = this.store.putJob(spec, this.now());
    this.bus.publish({ at: this.now(), type: "job", job: spec.name, message: `job ${spec.name} ${created ? "created" : changed ? `updated to version ${job.version}` : "submitted unchanged"}` });
    this.reconciler.trigger();
    return { job: this.jobView(job, this.store.listTasks({ job: spec.name })), created, changed };
  }

  /** Where the job's tasks would go now, every node scored or rejected with why (see planJob); refused like a submit, and nothing is stored. */
  plan(spec: JobSpec): PlanResult {
    const refused = [...jobSizeIssues(spec, this.maxTasksPerJob), ...policyIssues(spec, this.policy)];
    if (refused.length > 0) throw new JobValidationError(refused);
    return planJob({ spec, nodes: this.store.listNodes(), tasks: this.store.listTasks(), existing: this.store.getJob(spec.name), algorithm: this.algorithm });
  }

  stopJob(name: string, purge: boolean): JobView {
    const job = this.requireJob(name);
    const now = this.now();
    this.store.transaction(() => {
      this.store.setJobStatus(name, "stopped", now);
      for (const task of this.store.listTasks({ job: name })) {
        if (!isGone(task.state) && task.desired === "running") this.ledger.requestStop(task, "job stopped", now);
      }
    });
    this.bus.publish({ at: now, type: "job", job: name, message: `job ${name} stopped${purge ? " and purged" : ""}` });
    const view = this.jobView({ ...job, status: "stopped" }, this.store.listTasks({ job: name }));
    // Purging forgets the job once its tasks are told to stop; workers remove containers of tasks they no longer see.
    if (purge) this.store.deleteJob(name);
    return view;
  }

  listJobs(): JobView[] {
    const tasks = this.store.listTasks();
    return this.store.listJobs().map((job) => this.jobView(job, tasks.filter((t) => t.job === job.spec.name)));
  }

  getJob(name: string): JobDetail {
    const job = this.requireJob(name);
    const tasks = this.store.listTasks({ job: name });
    const names = this.nodeNames();
    return { ...this.jobView(job, tasks), tasks: tasks.map((t) => this.taskView(t, names)) };
  }

  listTasks(filter: { job?: string; nodeId?: string; state?: TaskState }): TaskView[] {
    const names = this.nodeNames();
    return this.store.listTasks(filter).map((t) => this.taskView(t, names));
  }

  /** Finds a task by full id or unique prefix. */
  getTask(idOrPrefix: string): TaskDetail {
    const task = this.store.getTask(idOrPrefix) ?? this.store.findTaskByPrefix(idOrPrefix);
    if (!task) throw new NotFoundError(`task ${idOrPrefix} does not exist`);
    return { ...this.taskView(task, this.nodeNames()), events: this.store.listTaskEvents(task.id) };
  }

  listNodes(): NodeView[] {
    const tasks = this.store.listTasks().filter((t) => t.nodeId !== null && !isGone(t.state));
    return this.store.listNodes().map((node) => this.nodeView(node, tasks.filter((t) => t.nodeId === node.id)));
  }

  getNode(idOrName: string): NodeView {
    const node = this.store.getNode(idOrName) ?? this.store.getNodeByName(idOrName);
    if (!node) throw new NotFoundError(`node ${idOrName} does not exist`);
    return this.nodeView(node, this.store.listTasks({ nodeId: node.id }).filter((t) => !isGone(t.state)));
  }

  /** Where a worker's long-poll lands: what should run on the node, after waiting for a change past `index`. */
  async assignments(nodeId: string, index: string, waitMs: number, signal?: AbortSignal): Promise<AssignmentsResponse> {
    if (!this.store.getNode(nodeId)) throw new NotFoundError(`node ${nodeId} is not registered; register it first`);
    await this.watch.wait(nodeId, index, waitMs, signal);
    const current = this.watch.current(nodeId);
    const tasks = this.store.listTasks({ nodeId }).filter((t) => !isGone(t.state) || t.state === "lost");
    const specs = new Map<string, { spec: JobSpec; type: Job["spec"]["type"] }>();
    const assignments: Assignment[] = [];
    for (const task of tasks) {
      const key = `${task.job}@${task.jobVersion}`;
      let entry = specs.get(key);
      if (!entry) {
        const spec = this.store.listJobVersions(task.job).find((v) => v.version === task.jobVersion)?.spec;
        if (!spec) continue;
        specs.set(key, (entry = { spec, type: spec.type }));
      }
      const spec = entry.spec.tasks.find((g) => g.name === task.group) as TaskSpec;
      assignments.push({ task, spec, jobType: entry.type });
    }
    return { index: current, assignments };
  }

  reportTask(nodeId: string, taskId: string, report: TaskReport): Task {
    const task = applyTaskReport(this.store, this.ledger, nodeId, taskId, report, this.now());
    if (isGone(task.state)) this.nodes.finishDrainIfEmpty(nodeId);
    // Any change may unblock the reconciler: a slot to refill, or a rollout waiting for health.
    this.reconciler.trigger();
    return task;
  }

  /** Prometheus text: what is in the store now, plus what was counted as it happened. */
  renderMetrics(): string {
    const count = <T>(items: T[], label: string, of: (item: T) => string, all: readonly string[]): [Record<string, string>, number][] =>
      all.map((value) => [{ [label]: value }, items.filter((i) => of(i) === value).length]);
    this.metrics.gauge("cube_jobs", "Jobs by status.", count(this.store.listJobs(), "status", (j) => j.status, ["running", "stopped"]));
    this.metrics.gauge("cube_tasks", "Tasks by state.", count(this.store.listTasks(), "state", (t) => t.state, TASK_STATES));
    this.metrics.gauge("cube_nodes", "Nodes by status.", count(this.store.listNodes(), "status", (n) => n.status, ["ready", "draining", "down"]));
    return this.metrics.render();
  }

  /** The job's stored versions, newest first. */
  jobVersions(name: string): { version: number; spec: JobSpec; createdAt: number }[] {
    this.requireJob(name);
    return this.store.listJobVersions(name);
  }

  /** Submits an earlier version's spec again, as a new version (history is never rewritten). */
  revertJob(name: string, version: number): SubmitResult {
    const old = this.jobVersions(name).find((v) => v.version === version);
    if (!old) throw new NotFoundError(`job ${name} has no version ${version}`);
    return this.submitJob(old.spec);
  }

  /** Stops one task on a user's request; a service replaces it, like a failure. */
  stopTask(idOrPrefix: string): TaskView {
    const task = this.getTask(idOrPrefix);
    if (isGone(task.state) || task.desired === "stopped") throw new ConflictError(`task ${task.name} is already ${task.desired === "stopped" ? "stopping" : task.state}`);
    const stored = this.store.transaction(() => this.ledger.requestStop(task, "stopped by user", this.now()));
    this.reconciler.trigger();
    return this.taskView(stored, this.nodeNames());
  }

  /** Changes one task group's count: a new job version that only scales, so running tasks stay. */
  scaleJob(name: string, group: string, count: number): SubmitResult {
    const job = this.requireJob(name);
    if (!job.spec.tasks.some((g) => g.name === group)) {
      throw new NotFoundError(`job ${name} has no task ${group} (it has ${job.spec.tasks.map((g) => g.name).join(", ")})`);
    }
    if (job.spec.type === "system") throw new BadRequestError(`job ${name} is a system job: it runs one task per node and cannot be scaled`);
    return this.submitJob({ ...job.spec, tasks: job.spec.tasks.map((g) => (g.name === group ? { ...g, count } : g)) });
  }

  /** The worker address and task id for proxying logs. */
  taskLocation(idOrPrefix: string): { task: TaskView; node: Node } {
    const task = this.getTask(idOrPrefix);
    if (!task.nodeId) throw new ConflictError(`task ${taskName(task)} is not placed on a node yet: ${task.message}`);
    const node = this.store.getNode(task.nodeId);
    if (!node) throw new NotFoundError(`node ${task.nodeId} of task ${taskName(task)} no longer exists`);
    return { task, node };
  }

  private requireJob(name: string): Job {
    const job = this.store.getJob(name);
    if (!job) throw new NotFoundError(`job ${name} does not exist`);
    return job;
  }

  private nodeNames(): Map<string, string> {
    return new Map(this.store.listNodes().map((n) => [n.id, n.name]));
  }

  private taskView(task: Task, names: Map<string, string>): TaskView {
    return { ...task, name: taskName(task), nodeName: task.nodeId ? (names.get(task.nodeId) ?? null) : null };
  }

  private jobView(job: Job, tasks: Task[]): JobView {
    const byState: Partial<Record<TaskState, number>> = {};
    for (const t of tasks) if (t.jobVersion === job.version || !isGone(t.state)) byState[t.state] = (byState[t.state] ?? 0) + 1;
    const desired = job.status === "stopped" ? 0 : job.spec.type === "system"
      ? tasks.filter((t) => !isGone(t.state) && t.desired === "running").length
      : job.spec.tasks.reduce((sum, g) => sum + g.count, 0);
    return { ...job, name: job.spec.name, type: job.spec.type, summary: { desired, byState }, rolloutFailure: this.reconciler.rolloutFailure(job.spec.name, job.version) };
  }

  private nodeView(node: Node, tasks: Task[]): NodeView {
    const allocated: Resources = { cpu: 0, memory: 0, disk: 0 };
    for (const t of tasks) {
      allocated.cpu += t.resources.cpu;
      allocated.memory += t.resources.memory;
      allocated.disk += t.resources.disk;
    }
    allocated.cpu = Math.round(allocated.cpu * 1000) / 1000;
    return { ...node, allocated, taskCount: tasks.length };
  }
}
