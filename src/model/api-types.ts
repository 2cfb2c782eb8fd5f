/** Shapes that cross the wire between the manager, its workers and the CLI. */
import type { Job, JobSpec, JobType, Overlap, Resources, TaskSpec } from "./job.ts";
import type { Node, NodeStats } from "./node.ts";
import type { Task, TaskEvent, TaskHealth } from "./task.ts";
import type { DesiredState, TaskState } from "./task-state.ts";

export interface TaskView extends Task {
  name: string;
  nodeName: string | null;
}

export interface TaskDetail extends TaskView {
  events: TaskEvent[];
}

export interface JobSummary {
  /** Replicas the spec asks for (for system jobs: eligible nodes targeted). */
  desired: number;
  byState: Partial<Record<TaskState, number>>;
}

export interface JobView extends Job {
  name: string;
  type: JobType;
  summary: JobSummary;
  /** Why the rolling update to the current version failed, if it did. */
  rolloutFailure: string | null;
}

export interface JobDetail extends JobView {
  tasks: TaskView[];
  /** For a periodic job (one with a schedule). */
  periodic?: PeriodicStatus;
  /** Where the job's named volumes live, once a task used them. */
  volumes?: JobVolume[];
}

/** A job's named volume: the node it lives on, and the nodes it was left on when its tasks moved (drain, lost node). */
export interface JobVolume {
  name: string;
  nodeId: string;
  node: string;
  /** Names of earlier nodes, oldest first: their copy of the data stayed there. */
  left: string[];
}

/** A named volume on a node's engine (`GET /v1/volumes`). */
export interface VolumeView {
  name: string;
  job: string;
  nodeId: string;
  node: string;
  /** Its name on the node's engine. */
  engineName: string;
  sizeBytes: number | null;
  createdAt: number;
  /** Live tasks that mount it there (a volume in use cannot be removed). */
  usedBy: string[];
}

/** `GET /v1/volumes`: the volumes of every node that answered, and the nodes that could not be asked. */
export interface VolumeList {
  volumes: VolumeView[];
  errors: { node: string; error: string }[];
}

/** A periodic job's schedule, when it next comes due, and its last runs (each a batch job of its own), newest first. */
export interface PeriodicStatus {
  schedule: string;
  timezone: string;
  overlap: Overlap;
  /** null while the job is stopped. */
  next: number | null;
  runs: { job: string; at: number; status: "running" | "completed" | "failed" | "stopped" | "skipped"; summary: JobSummary }[];
}

/** One stored version of a job, and what became of its rolling update. */
export interface JobVersion {
  version: number;
  spec: JobSpec;
  createdAt: number;
  /** Why the rolling update to this version failed, if it did. */
  rolloutFailure: string | null;
  /** Made by an automatic revert of a failed rollout (such a version is never reverted itself). */
  autoRevert: boolean;
  /** Why the manager made this version itself ("secret db_password changed to version 3"); absent for a version someone submitted. */
  reason?: string;
}

export interface SubmitResult {
  job: JobView;
  created: boolean;
  changed: boolean;
}

export interface NodeView extends Node {
  allocated: Resources;
  taskCount: number;
}

export interface RegisterRequest {
  id?: string;
  name: string;
  address: string;
  datacenter: string;
  labels: Record<string, string>;
  capacity: Resources;
  version: string;
}

/** `credential` is there when the join token admitted the node: the worker keeps it for every later call. */
export interface RegisterResponse {
  node: Node;
  credential?: string;
}

/**
 * The images a node's engine holds, as its worker reports them: with a heartbeat, only when they
 * changed since the manager last acknowledged them (the manager answers each heartbeat with the
 * digest it holds, null when it has none, after a restart say).
 */
export interface NodeImages {
  /** Changes whenever `refs` or `unpullable` do. */
  digest: string;
  /** Image ids (`sha256:…`) and `NAME:TAG` references. */
  refs: string[];
  /** Images this node failed to pull lately, with the registry's reason. */
  unpullable: { image: string; message: string; at: number }[];
}

/** Whether a node has an image (`GET /v1/images/nodes`): its id there, null when it has none; `error` when its worker could not be asked. */
export interface ImageOnNode {
  nodeId: string;
  nodeName: string;
  id: string | null;
  error?: string;
}

/** What `POST /v1/images/load` loaded into one node's engine. */
export interface ImageLoadResult {
  nodeId: string;
  nodeName: string;
  /** References (or ids of untagged images) the engine loaded. */
  loaded: string[];
  /** Bytes of the archive the worker received. */
  bytes: number;
}

export interface HeartbeatRequest {
  stats: NodeStats;
  images?: NodeImages;
  /** What the worker did on its own since its last heartbeat (a container no task owned removed, say), for the events stream. */
  events?: NodeEvent[];
}

export interface NodeEvent {
  at: number;
  message: string;
  task?: string;
}

/** A task the manager wants on a node, with the spec of the version it runs. */
export interface Assignment {
  task: Task;
  spec: TaskSpec;
  jobType: JobType;
}

export interface AssignmentsResponse {
  /** Opaque; pass it back to wait for the next change. */
  index: string;
  /** Every task the node should hold; with `removed`, only those added or changed since the index asked with. */
  assignments: Assignment[];
  /**
   * Present when the worker asked for changes (`delta=1`) since the index of the answer the manager
   * last gave it: the ids of the tasks no longer assigned since then. Absent, the list is whole.
   */
  removed?: string[];
}

export interface TaskReport {
  state: TaskState;
  message: string;
  containerId?: string | null;
  hostPorts?: Record<string, number>;
  exitCode?: number | null;
  restarts?: number;
  health?: TaskHealth | null;
  /** With `restarting`: when the next attempt is due (null: when the engine answers again). */
  nextAttemptAt?: number | null;
}

/** Most reports one `POST /v1/nodes/:id/tasks` may carry. */
export const MAX_REPORTS_PER_REQUEST = 1_000;

/** One item of `POST /v1/nodes/:id/tasks`: a report about one task. */
export interface TaskReportItem extends TaskReport {
  taskId: string;
}

/** What became of one report of a batch: applied (with the task's state and desired state after it), or refused and why. */
export type TaskReportResult =
  | { taskId: string; ok: true; state: TaskState; desired: DesiredState }
  | { taskId: string; ok: false; error: { code: string; message: string } };

/** One change in the cluster, as subscribers (the event stream, the history, the dashboard) see it. */
export interface ClusterEvent {
  /** Increases by one with every event this manager published since it started. */
  index: number;
  at: number;
  type: "job" | "task" | "node" | "service";
  job?: string;
  task?: string;
  node?: string;
  /** For service events: the service whose endpoints changed. */
  service?: string;
  /** For task events: the state the task is in after the change. */
  state?: string;
  message: string;
}

/** One replica behind a service or an ingress route. */
export interface ServiceEndpoint {
  /** The task's id. */
  task: string;
  /** job.group.index */
  name: string;
  /** The node's name. */
  node: string;
  nodeId: string;
  /** The host other nodes reach the task's host port at (from the node's address). */
  address: string;
  /** The host port bound to the named port. */
  port: number;
  /** The named port inside the container: the port of `NAME.service.cube`. */
  containerPort: number;
  /** Its health check passes, or it has none: only healthy endpoints get traffic. */
  healthy: boolean;
  /**
   * Asked to stop and serving out its shutdown delay: it gets traffic only while no other endpoint
   * is healthy (a drained node's replicas keep answering until their replacements are ready).
   */
  stopping: boolean;
}

/** A service: the running replicas of the tasks that publish it. */
export interface ServiceView {
  name: string;
  /** The job that owns the name. */
  job: string;
  tags: string[];
  endpoints: ServiceEndpoint[];
}

/** Requests for `host` under `path` go to these endpoints. */
export interface IngressView {
  host: string;
  path: string;
  job: string;
  endpoints: ServiceEndpoint[];
}

/** What a worker's DNS, proxies and ingress route by: `GET /v1/nodes/:id/services`, long-polled like assignments. */
export interface ServiceRoutes {
  /** Opaque; pass it back to wait for the next change. */
  index: string;
  services: ServiceView[];
  ingress: IngressView[];
}

/** Every list answers with one page and the token of the next (null on the last): `?limit=N&next=TOKEN`. */
export interface ListPage {
  next: string | null;
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** A node's score for a task: the weighted total (0–100) and each scoring plugin's part. */
export interface PlanScore {
  nodeId: string;
  nodeName: string;
  total: number;
  byPlugin: Record<string, number>;
}

export interface PlanRejection {
  nodeId: string;
  nodeName: string;
  reason: string;
}

/** Where one task (one replica slot) would go, and why there. */
export interface PlannedTask {
  /** job.group.index */
  name: string;
  index: number;
  /** The chosen node, or null when no node can run it. */
  node: { id: string; name: string } | null;
  score: PlanScore | null;
  /** Every node that could run it, best first (the chosen one included). */
  candidates: PlanScore[];
  /** Every node that could not, with why. */
  rejected: PlanRejection[];
  /** Reason → how many nodes were rejected for it. */
  reasons: Record<string, number>;
  /** Why it cannot be placed (`no node can run it: 3 nodes: memory exhausted…`), or null. */
  failure: string | null;
  /** False for replicas past the first few of a large group: node and score only, no candidates or rejections. */
  detailed: boolean;
}

export interface PlannedGroup {
  name: string;
  /** Tasks the group asks for (system jobs: nodes that could run it). */
  count: number;
  placed: number;
  tasks: PlannedTask[];
  /** System jobs only: the nodes that would not run the task, with why. */
  rejected?: PlanRejection[];
}

/** `POST /v1/plan`: where a job's tasks would go on the cluster as it is now; nothing is stored. */
export interface PlanResult {
  job: string;
  /** The job's own `scheduler:`, else the cluster's. */
  algorithm: string;
  /** The stored version when the job exists: it is planned as if placed afresh, its own tasks' resources counted free. */
  existingVersion: number | null;
  nodes: number;
  groups: PlannedGroup[];
}

/** A manager of the cluster (`GET /v1/managers`); with SQLite there is one, always the leader. */
export interface ManagerView {
  name: string;
  /** Where clients reach its API. */
  address: string;
  leader: boolean;
  startedAt: number;
  /** When it last said it was alive (every 2 s while it runs). */
  lastSeenAt: number;
}
