import type {
  AssignmentsResponse,
  ClusterEvent,
  JobDetail,
  JobVersion,
  JobView,
  ManagerView,
  NodeEvent,
  NodeImages,
  NodeView,
  PlanResult,
  RegisterRequest,
  RegisterResponse,
  ServiceRoutes,
  ServiceView,
  SubmitResult,
  TaskDetail,
  TaskReportItem,
  TaskReportResult,
  TaskView,
} from "../model/api-types.ts";
import type { JobSpec } from "../model/job.ts";
import type { NodeStats } from "../model/node.ts";
import type { KeyringRotation, SecretPutResult, SecretView, TaskSecret } from "../model/secret.ts";
import type { TaskState } from "../model/task-state.ts";
import type { IssuedToken, Token, TokenRole } from "../model/token.ts";
import type { EventFilter } from "./event-bus.ts";
import type { RequestLabels } from "./manager-metrics.ts";
import type { Page, PageRequest } from "./paging.ts";
import type { ClusterSummary } from "./queries.ts";
import type { Principal } from "./tokens.ts";
import type { UsageSample } from "./usage-history.ts";

export type { ClusterSummary, EventFilter, Page, PageRequest, Principal, UsageSample };

/** Which tasks to list; `nodeId` is a node's id (the API resolves names first). */
export interface TaskQuery {
  job?: string;
  nodeId?: string;
  state?: TaskState;
}

/**
 * The one door into the manager for the API and the dashboard: every method answers with views
 * (never the manager's own records), lists page, and a request that does not fit the current state
 * fails with an error the API maps to a 4xx (lib/errors.ts).
 */
export interface ControlPlane {
  // Jobs
  submitJob(spec: JobSpec): SubmitResult;
  plan(spec: JobSpec): PlanResult;
  stopJob(name: string, purge: boolean): JobView;
  scaleJob(name: string, group: string, count: number): SubmitResult;
  revertJob(name: string, version: number): SubmitResult;
  listJobs(page?: PageRequest): Page<JobView>;
  getJob(name: string): JobDetail;
  jobVersions(name: string): JobVersion[];

  // Tasks (a task is named by full id, JOB.GROUP.INDEX or unique id prefix: task-ref.ts)
  listTasks(query: TaskQuery, page?: PageRequest): Page<TaskView>;
  getTask(idOrPrefix: string): TaskDetail;
  stopTask(idOrPrefix: string): TaskView;

  // Nodes
  listNodes(page?: PageRequest): Page<NodeView>;
  getNode(idOrName: string): NodeView;
  drainNode(idOrName: string): NodeView;
  setNodeEligibility(idOrName: string, eligible: boolean): NodeView;
  /** The node's recent cpu and memory use, from heartbeats, oldest first. */
  nodeUsage(nodeId: string): readonly UsageSample[];
  summary(): ClusterSummary;

  // Services
  listServices(): ServiceView[];
  /** A NotFoundError when no running job publishes it. */
  getService(name: string): ServiceView;

  // Volumes (each node's engine lists its own; the API asks the workers)
  /** The nodes to ask: the named ones (names or ids), else every node. */
  volumeNodes(nodes: readonly string[]): NodeView[];
  /** Live tasks of the job on the node that mount the volume, by name (such a volume cannot be removed). */
  volumeUsers(job: string, volume: string, nodeId: string): string[];

  // Events
  subscribe(listener: (event: ClusterEvent) => void): () => void;
  eventHistory(filter: EventFilter, page?: PageRequest): Page<ClusterEvent>;

  // Workers
  joinNode(principal: Principal, request: RegisterRequest): RegisterResponse;
  /** `events`: what the worker did on its own since its last heartbeat, published as node events. */
  heartbeat(nodeId: string, stats: NodeStats, events?: readonly NodeEvent[], images?: NodeImages): { status: string; images: string | null };
  /** `delta`: only the tasks added or changed since `index`, and the ids of those removed (when the node was last told `index`). */
  assignments(nodeId: string, index: string, waitMs: number, signal?: AbortSignal, delta?: boolean): Promise<AssignmentsResponse>;
  /** Every service and ingress route, once they changed past `index` (or after waitMs): what a worker's DNS, proxies and ingress route by. */
  serviceRoutes(nodeId: string, index: string, waitMs: number, signal?: AbortSignal): Promise<ServiceRoutes>;
  /** Applied in order, in one transaction (shared with the other reports of the same moment); each answered on its own. */
  reportTasks(nodeId: string, reports: readonly TaskReportItem[]): Promise<TaskReportResult[]>;
  /** The task and the node to forward a logs, exec or restart request to (a 400 while it is on no node). */
  taskLocation(idOrPrefix: string): { task: TaskView; node: NodeView };
  /** What the node's worker accepts from the manager (see Tokens.workerKey), null without a live credential. */
  workerKey(nodeId: string): string | null;

  // Images (cube image push)
  /** The nodes a push goes to: the named ones (names or ids), else every ready, eligible node; a 409 for a named node that is down. */
  imageTargets(nodes: readonly string[]): NodeView[];
  /** A push loaded these references into the node's engine. */
  imageLoaded(nodeId: string, refs: readonly string[]): void;

  // Secrets: values go in (admin) and come out only to the worker of a task that names them (secret-commands.ts)
  listSecrets(page?: PageRequest): Page<SecretView>;
  getSecret(name: string): SecretView;
  /** The value as the secret's next version (201 when new), rolled onto the running jobs that use it; the current value again changes nothing. */
  putSecret(name: string, value: Uint8Array): Promise<SecretPutResult>;
  /** A 409 while a running job uses it. */
  removeSecret(name: string): SecretView;
  /** A new data key seals every kept secret version from now on. */
  rotateKeyring(): Promise<KeyringRotation>;
  /** The values a task on the node needs to start (a 403 for a task assigned elsewhere). */
  taskSecrets(nodeId: string, taskId: string): Promise<TaskSecret[]>;

  // Tokens
  verifyToken(secret: string): Principal | null;
  listTokens(): Token[];
  createToken(role: TokenRole, name: string): IssuedToken;
  revokeToken(id: string): Token;

  // High availability
  /** Resolves once every write accepted so far is stored; rejects (503, 409) when the store refused one. The API answers a write after it. */
  durable(): Promise<void>;
  /** The managers sharing the store, which one leads, and when each was last seen. */
  managers(): ManagerView[];
  /** The lines of a snapshot file of the whole state (cube snapshot save). */
  snapshot(): Iterable<string>;
  /** Replaces the whole state with a snapshot file's; a 400 that changes nothing when it is not one. */
  restoreSnapshot(text: string): Promise<Record<string, number>>;

  // Metrics
  /** Prometheus text: the process's metrics and the manager's own. */
  renderMetrics(): Promise<string>;
  observeRequest(labels: RequestLabels, seconds: number): void;
}
