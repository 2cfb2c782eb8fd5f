/** Shapes that cross the wire between the manager, its workers and the CLI. */
import type { Job, JobType, Resources, TaskSpec } from "./job.ts";
import type { Node, NodeStats } from "./node.ts";
import type { Task, TaskEvent, TaskHealth } from "./task.ts";
import type { TaskState } from "./task-state.ts";

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

export interface HeartbeatRequest {
  stats: NodeStats;
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
  assignments: Assignment[];
}

export interface TaskReport {
  state: TaskState;
  message: string;
  containerId?: string | null;
  hostPorts?: Record<string, number>;
  exitCode?: number | null;
  restarts?: number;
  health?: TaskHealth | null;
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

