import { ConflictError, NotFoundError } from "../lib/errors.ts";
import type { ClusterEvent, JobDetail, JobVersion, JobView, NodeView, TaskDetail, TaskView } from "../model/api-types.ts";
import type { Resources } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { Task } from "../model/task.ts";
import { TASK_STATES, type TaskState } from "../model/task-state.ts";
import type { JobEntry } from "./cluster-state.ts";
import type { ManagerContext } from "./context.ts";
import type { EventFilter } from "./event-bus.ts";
import { keyOfToken, type Page, type PageRequest, pageOf } from "./paging.ts";
import { periodicStatus } from "./periodic-launcher.ts";
import { resolveTaskRef } from "./task-ref.ts";
import { VolumeViews } from "./volume-views.ts";
import { keyOf, type TaskFilter, type TaskKey } from "./task-table.ts";
import { jobView, nodeView, taskView } from "./views.ts";

/** The cluster in numbers, for the dashboard's overview. */
export interface ClusterSummary {
  nodes: Record<Node["status"], number>;
  jobs: Record<"running" | "stopped", number>;
  tasks: Partial<Record<TaskState, number>>;
  /** Of the nodes that are not down: what is there to use, and what is allocated of it. */
  capacity: Resources;
  allocated: Resources;
}

/** Reads of the in-memory state, as views; lists page (paging.ts). Only a task's event history is read from the store. */
export class Queries {
  readonly volumes: VolumeViews;

  constructor(private readonly ctx: ManagerContext) {
    this.volumes = new VolumeViews(ctx);
  }

  listJobs(page: PageRequest = {}): Page<JobView> {
    const after = page.next === undefined ? undefined : (keyOfToken("jobs", page.next, ["string"])[0] as string);
    const entries = mapIter(this.ctx.state.jobNames(after), (name) => this.ctx.state.job(name) as JobEntry);
    return pageOf("jobs", entries, page.limit, (e) => [e.job.spec.name], (e) => this.jobViewOf(e));
  }

  getJob(name: string): JobDetail {
    const entry = this.requireJob(name);
    const nodeName = this.nodeName;
    const periodic = periodicStatus(this.ctx.state, entry, this.ctx.now());
    const volumes = this.volumes.ofJob(entry);
    return { ...this.jobViewOf(entry), tasks: this.ctx.state.tasks.ofJob(name).map((t) => taskView(t, nodeName)), ...(periodic ? { periodic } : {}), ...(volumes.length > 0 ? { volumes } : {}) };
  }

  jobView(name: string): JobView {
    return this.jobViewOf(this.requireJob(name));
  }

  /** The job's stored versions, newest first. */
  jobVersions(name: string): JobVersion[] {
    return [...this.requireJob(name).versions.values()].sort((a, b) => b.version - a.version);
  }

  listTasks(filter: TaskFilter, page: PageRequest = {}): Page<TaskView> {
    const after = page.next === undefined ? undefined : (keyOfToken("tasks", page.next, ["string", "string", "number", "number", "string"]) as unknown as TaskKey);
    const tasks = this.ctx.state.tasks.page(filter, after, page.limit === undefined ? Number.POSITIVE_INFINITY : page.limit + 1);
    return pageOf("tasks", tasks, page.limit, keyOf, (t) => taskView(t, this.nodeName));
  }

  /** A task by full id, name (`JOB.GROUP.INDEX`) or unique id prefix, with its history of events. */
  getTask(ref: string): TaskDetail {
    const task = this.findTask(ref);
    return { ...taskView(task, this.nodeName), events: this.ctx.store.listTaskEvents(task.id) };
  }

  /** A task by full id, name (`JOB.GROUP.INDEX`: the slot's live task, else its newest) or unique id prefix. */
  findTask(ref: string): Task {
    const { state, store } = this.ctx;
    const task = resolveTaskRef(ref, {
      byId: (id) => state.tasks.get(id),
      ofJob: (job) => state.tasks.ofJob(job),
      byPrefix: (prefix) => state.tasks.get(store.findTaskByPrefix(prefix)?.id ?? ""),
    });
    if (!task) throw new NotFoundError(`task ${ref} does not exist (name a task by id, unique id prefix, or JOB.GROUP.INDEX as in cube status)`);
    return task;
  }

  listNodes(page: PageRequest = {}): Page<NodeView> {
    const { state } = this.ctx;
    const after = page.next === undefined ? undefined : (keyOfToken("nodes", page.next, ["string"])[0] as string);
    const nodes = mapIter(state.nodeNames(after), (name) => state.nodeByName(name) as Node);
    return pageOf("nodes", nodes, page.limit, (n) => [n.name], (n) => nodeView(n, state.cluster.usageOf(n.id)));
  }

  getNode(idOrName: string): NodeView {
    const node = this.requireNode(idOrName);
    return nodeView(node, this.ctx.state.cluster.usageOf(node.id));
  }

  /** The nodes an image push goes to: the named ones (names or ids), else every ready, eligible node. */
  imageTargets(names: readonly string[]): NodeView[] {
    const nodes = names.length > 0 ? names.map((name) => this.requireNode(name)) : this.ctx.state.nodeList().filter((n) => n.status === "ready" && n.eligible);
    const down = nodes.find((n) => n.status === "down");
    if (down) throw new ConflictError(`node ${down.name} is down: an image can be pushed to it once it is back`);
    if (nodes.length === 0) throw new ConflictError("no node is ready and eligible to push an image to");
    return nodes.map((n) => nodeView(n, this.ctx.state.cluster.usageOf(n.id)));
  }

  /** The nodes whose volumes `cube volume` lists or removes: the named ones (names or ids), else every node (a down one is reported as such). */
  volumeNodes(names: readonly string[]): NodeView[] {
    const nodes = names.length > 0 ? names.map((name) => this.requireNode(name)) : this.ctx.state.nodeList();
    return nodes.map((n) => nodeView(n, this.ctx.state.cluster.usageOf(n.id)));
  }

  requireNode(idOrName: string): Node {
    const node = this.ctx.state.node(idOrName) ?? this.ctx.state.nodeByName(idOrName);
    if (!node) throw new NotFoundError(`node ${idOrName} does not exist`);
    return node;
  }

  requireJob(name: string): JobEntry {
    const entry = this.ctx.state.job(name);
    if (!entry) throw new NotFoundError(`job ${name} does not exist`);
    return entry;
  }

  eventHistory(filter: EventFilter, page: PageRequest = {}): Page<ClusterEvent> {
    const after = page.next === undefined ? 0 : (keyOfToken("events", page.next, ["number"])[0] as number);
    const events = this.ctx.bus.history(filter, after, page.limit === undefined ? Number.POSITIVE_INFINITY : page.limit + 1);
    return pageOf("events", events, page.limit, (e) => [e.index], (e) => e);
  }

  summary(): ClusterSummary {
    const { state } = this.ctx;
    const summary: ClusterSummary = { nodes: { ready: 0, draining: 0, down: 0 }, jobs: { running: 0, stopped: 0 }, tasks: {}, capacity: { cpu: 0, memory: 0, disk: 0 }, allocated: { cpu: 0, memory: 0, disk: 0 } };
    for (const node of state.nodeList()) {
      summary.nodes[node.status]++;
      // A down node's capacity is not there to use; what is still allocated on it is about to move.
      if (node.status === "down") continue;
      const { allocated } = nodeView(node, state.cluster.usageOf(node.id));
      for (const r of ["cpu", "memory", "disk"] as const) {
        summary.capacity[r] += node.capacity[r];
        summary.allocated[r] += allocated[r];
      }
    }
    for (const name of state.jobNames()) summary.jobs[(state.job(name) as JobEntry).job.status]++;
    for (const s of TASK_STATES) if (state.tasks.countInState(s) > 0) summary.tasks[s] = state.tasks.countInState(s);
    return summary;
  }

  private readonly nodeName = (id: string) => this.ctx.state.node(id)?.name;

  private jobViewOf({ job, versions }: JobEntry): JobView {
    return jobView(job, this.ctx.state.tasks.ofJob(job.spec.name), versions.get(job.version)?.rolloutFailure ?? null);
  }
}

function* mapIter<T, U>(items: Iterable<T>, map: (item: T) => U): Generator<U> {
  for (const item of items) yield map(item);
}
