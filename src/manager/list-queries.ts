import { NotFoundError } from "../lib/errors.ts";
import type { JobView, NodeView, TaskView } from "../model/api-types.ts";
import type { Node } from "../model/node.ts";
import type { ClusterState, JobEntry } from "./cluster-state.ts";
import { keyOfToken, type Page, type PageRequest, pageOf } from "./paging.ts";
import { keyOf, type TaskFilter, type TaskKey } from "./task-table.ts";
import { jobView, nodeView, taskView } from "./views.ts";

/**
 * The lists (jobs, tasks, nodes), paged, and the lookups they need, read from a ClusterState alone:
 * the manager's own, or the copy the API's front thread keeps (src/server/api-front.ts), which
 * serves them while the manager's thread is busy.
 */
export class ListQueries {
  constructor(private readonly state: ClusterState) {}

  listJobs(page: PageRequest = {}): Page<JobView> {
    const after = page.next === undefined ? undefined : (keyOfToken("jobs", page.next, ["string"])[0] as string);
    const entries = mapIter(this.state.jobNames(after), (name) => this.state.job(name) as JobEntry);
    return pageOf("jobs", entries, page.limit, (e) => [e.job.spec.name], (e) => this.jobViewOf(e));
  }

  listTasks(filter: TaskFilter, page: PageRequest = {}): Page<TaskView> {
    const after = page.next === undefined ? undefined : (keyOfToken("tasks", page.next, ["string", "string", "number", "number", "string"]) as unknown as TaskKey);
    const tasks = this.state.tasks.page(filter, after, page.limit === undefined ? Number.POSITIVE_INFINITY : page.limit + 1);
    return pageOf("tasks", tasks, page.limit, keyOf, (t) => taskView(t, this.nodeName));
  }

  listNodes(page: PageRequest = {}): Page<NodeView> {
    const { state } = this;
    const after = page.next === undefined ? undefined : (keyOfToken("nodes", page.next, ["string"])[0] as string);
    const nodes = mapIter(state.nodeNames(after), (name) => state.nodeByName(name) as Node);
    return pageOf("nodes", nodes, page.limit, (n) => [n.name], (n) => nodeView(n, state.cluster.usageOf(n.id)));
  }

  getNode(idOrName: string): NodeView {
    const node = this.requireNode(idOrName);
    return nodeView(node, this.state.cluster.usageOf(node.id));
  }

  requireNode(idOrName: string): Node {
    const node = this.state.node(idOrName) ?? this.state.nodeByName(idOrName);
    if (!node) throw new NotFoundError(`node ${idOrName} does not exist`);
    return node;
  }

  readonly nodeName = (id: string) => this.state.node(id)?.name;

  jobViewOf({ job, versions }: JobEntry): JobView {
    return jobView(job, this.state.tasks.ofJob(job.spec.name), versions.get(job.version)?.rolloutFailure ?? null);
  }
}

function* mapIter<T, U>(items: Iterable<T>, map: (item: T) => U): Generator<U> {
  for (const item of items) yield map(item);
}
