/** A validated job, as the manager stores it. Durations are milliseconds; cpu in cores; memory and disk in MiB. */
export type JobType = "service" | "batch" | "system";

export interface Resources {
  cpu: number;
  memory: number;
  disk: number;
}

export interface PortSpec {
  name: string;
  container: number;
  /** A fixed host port; when absent the worker lets the engine pick a free one. */
  host?: number;
}

export type RestartMode = "fail" | "delay";

export interface RestartPolicy {
  attempts: number;
  intervalMs: number;
  delayMs: number;
  mode: RestartMode;
}

export type HealthCheck =
  | { kind: "http"; path: string; port: string; intervalMs: number; timeoutMs: number; failures: number }
  | { kind: "tcp"; port: string; intervalMs: number; timeoutMs: number; failures: number }
  | { kind: "exec"; command: string[]; intervalMs: number; timeoutMs: number; failures: number };

export type ConstraintOperator = "=" | "!=" | "regexp" | "version" | "distinct_hosts";

export interface Constraint {
  attribute: string;
  operator: ConstraintOperator;
  value: string;
}

export interface TaskSpec {
  name: string;
  image: string;
  command?: string[];
  entrypoint?: string[];
  count: number;
  env: Record<string, string>;
  labels: Record<string, string>;
  resources: Resources;
  ports: PortSpec[];
  restart: RestartPolicy;
  health?: HealthCheck;
  constraints: Constraint[];
}

export interface JobSpec {
  name: string;
  type: JobType;
  /** Empty means any datacenter. */
  datacenters: string[];
  constraints: Constraint[];
  tasks: TaskSpec[];
}

export interface Job {
  spec: JobSpec;
  version: number;
  status: "running" | "stopped";
  createdAt: number;
  updatedAt: number;
}
