import { ConflictError, NotFoundError } from "../lib/errors.ts";
import type { ClusterEvent, JobDetail, JobVersion, JobView, NodeView, TaskDetail, TaskView } from "../model/api-types.ts";
import type { Resources } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { Task } from "../model/task.ts";
import { TASK_STATES, type TaskState } from "../model/task-state.ts";
import type { JobEntry } from "./cluster-state.ts";
import type { ManagerContext } from "./context.ts";
import type { EventFilter } from "./event-bus.ts";
import { ListQueries } from "./list-queries.ts";
import { keyOfToken, type Page, type PageRequest, pageOf } from "./paging.ts";
import { periodicStatus } from "./periodic-launcher.ts";
import { resolveTaskRef } from "./task-ref.ts";
import { VolumeViews } from "./volume-views.ts";
import type { TaskFilter } from "./task-table.ts";
import { nodeView, taskView } from "./views.ts";

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
  private readonly lists: ListQueries;

  constructor(private readonly ctx: ManagerContext) {
    this.volumes = new VolumeViews(ctx);
    this.lists = new ListQueries(ctx.state);
  }

  listJobs(page: PageRequest = {}): Page<JobView> {
    return this.lists.listJobs(page);
  }

  getJob(name: string): JobDetail {
    const entry = this.requireJob(name);
    const nodeName = this.lists.nodeName;
    const periodic = periodicStatus(this.ctx.state, entry, this.ctx.now());
    const volumes = this.volumes.ofJob(entry);
    return { ...this.lists.jobViewOf(entry), tasks: this.ctx.state.tasks.ofJob(name).map((t) => taskView(t, nodeName)), ...(periodic ? { periodic } : {}), ...(volumes.length > 0 ? { volumes } : {}) };
  }

  jobView(name: string): JobView {
    return this.lists.jobViewOf(this.requireJob(name));
  }

  /** The job's stored versions, newest first. */
  jobVersions(name: string): JobVersion[] {
    return [...this.requireJob(name).versions.values()].sort((a, b) => b.version - a.version);
  }

  listTasks(filter: TaskFilter, page: PageRequest = {}): Page<TaskView> {
    return this.lists.listTasks(filter, page);
  }

  /** A task by full id, name (`JOB.GROUP.INDEX`) or unique id prefix, with its history of events. */
  getTask(ref: string): TaskDetail {
    const task = this.findTask(ref);
    return { ...taskView(task, this.lists.nodeName), events: this.ctx.store.listTaskEvents(task.id) };
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
    return this.lists.listNodes(page);
  }

  getNode(idOrName: string): NodeView {
    return this.lists.getNode(idOrName);
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
    return this.lists.requireNode(idOrName);
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
}
