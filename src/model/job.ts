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
  /**
   * `on-failure`: an exit with code 0 ends the task as completed, and its slot stays done (a one-off
   * step in a service job: a migration others depend on). Absent: every exit counts (batch tasks
   * complete on 0 anyway).
   */
  condition?: "on-failure";
}

/** `graceMs`: failed probes this soon after the start do not count (a database still opening); absent means none. */
interface CheckTiming {
  intervalMs: number;
  timeoutMs: number;
  failures: number;
  graceMs?: number;
}

export type HealthCheck =
  | ({ kind: "http"; path: string; port: string } & CheckTiming)
  | ({ kind: "tcp"; port: string } & CheckTiming)
  | ({ kind: "exec"; command: string[] } & CheckTiming);

export type ConstraintOperator = "=" | "!=" | "regexp" | "version" | "distinct_hosts";

export interface Constraint {
  attribute: string;
  operator: ConstraintOperator;
  value: string;
}

/** Placement algorithms a cluster (`--scheduler`) or a job (`scheduler:`) can choose. */
export const SCHEDULER_ALGORITHMS = ["binpack", "spread", "epvm", "round-robin"] as const;
export type SchedulerAlgorithm = (typeof SCHEDULER_ALGORITHMS)[number];

/** Spread a group's replicas evenly over the values of a node attribute (`node.datacenter`, `node.label.rack`). */
export interface Spread {
  attribute: string;
  /** 0-100: how much evenness counts against the algorithm's own scores (default 50). */
  weight: number;
}

/** How a changed task group is rolled out: a few replicas at a time, each healthy before the next goes. */
export interface UpdateStrategy {
  maxParallel: number;
  /** A replacement counts as healthy once running (and its check passing) this long. */
  minHealthyTimeMs: number;
  /** A replacement not healthy this long after it was created fails the rollout. */
  healthyDeadlineMs: number;
  /** A failed rollout goes back to the version it was replacing. */
  autoRevert: boolean;
}

/**
 * Nomad's stop_after_client_disconnect: a worker that cannot reach the manager for this long stops
 * the task itself, so a cut-off node stops serving what the manager has meanwhile placed elsewhere.
 */
export interface DisconnectPolicy {
  stopAfterMs: number;
}

export type NetworkMode = "bridge" | "host" | "none";

/** A named port published as a service: reachable in every task's container as `NAME.service.cube:<container port>`. */
export interface ServiceSpec {
  /** A DNS label, unique to one job across the cluster. */
  name: string;
  /** The name of one of the task's ports. */
  port: string;
  tags: string[];
}

/** HTTP requests for `host` (and paths under `path`) sent by the nodes' ingress to the task's named port. */
export interface IngressRule {
  /** Lower-case host name, unique to one job across the cluster. */
  host: string;
  /** Path prefix, starting with `/`. */
  path: string;
  port: string;
}

/** What a task group waits for before its first tasks start: another group of the job started, healthy, or completed successfully. */
export type DependencyCondition = "started" | "healthy" | "completed";

export interface Dependency {
  /** Another task group of the same job. */
  task: string;
  condition: DependencyCondition;
}

/**
 * A named volume on the node (a Docker volume labelled with the job), kept across the task's
 * restarts and updates; the task sticks to the node that holds it.
 */
export interface VolumeMount {
  /** Unique to the job: tasks of the job naming the same volume share it. */
  name: string;
  target: string;
  readonly: boolean;
}

/** A host directory inside the container (a bind mount). */
export interface BindMount {
  source: string;
  target: string;
  readonly: boolean;
}

/**
 * What a task may ask of its host beyond an ordinary container; each is refused unless the manager's
 * --allow list permits it (container-policy.ts). Absent means the safe default.
 */
export interface HostAccess {
  privileged?: boolean;
  networkMode?: NetworkMode;
  /** Linux capability names without CAP_, upper case: NET_ADMIN. */
  capAdd?: string[];
  mounts?: BindMount[];
}

/**
 * A secret a task gets: always as a read-only file, and as an environment variable when `env` names
 * one (opt-in: `docker inspect` shows a container's environment).
 */
export interface SecretRef {
  name: string;
  /** Where the file appears in the container (default /run/secrets/NAME). */
  file: string;
  env?: string;
  /**
   * The secret's version the task runs with. The manager sets it when it stores the job (the job file
   * has none), so a new value makes a new job version, rolled out like any change; the value never
   * enters the spec.
   */
  version?: number;
}

export interface TaskSpec extends HostAccess {
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
  /** With the job's own spreads; a task's spread on the same attribute replaces the job's. */
  spread?: Spread[];
  /** The job's update strategy merged with the task's own; absent means replace all at once. */
  update?: UpdateStrategy;
  /** What a worker cut off from the manager does with the task; absent means keep it running. */
  disconnect?: DisconnectPolicy;
  services?: ServiceSpec[];
  ingress?: IngressRule[];
  /** Groups that must reach a condition before this one's first tasks are placed (Compose's depends_on); later updates do not wait. */
  dependsOn?: Dependency[];
  volumes?: VolumeMount[];
  /**
   * How long a task asked to stop keeps running after it left the service catalog, so proxies stop
   * sending it new requests before it goes (Nomad's shutdown_delay). Default 5 s for tasks with
   * services or ingress, absent otherwise.
   */
  shutdownDelayMs?: number;
  secrets?: SecretRef[];
}

/** What a periodic job does when a run is due while the last one still runs: skip the new one, or run both. */
export type Overlap = "skip" | "allow";

/** Set by the manager on each run of a periodic job. */
export interface PeriodicRun {
  /** The periodic job that launched it. */
  parent: string;
  /** The scheduled time it runs for (ms since the epoch); a run is named `<parent>-<seconds>`. */
  at: number;
}

export interface JobSpec {
  name: string;
  type: JobType;
  /** Empty means any datacenter. */
  datacenters: string[];
  constraints: Constraint[];
  /** Overrides the manager's `--scheduler` for this job. */
  scheduler?: SchedulerAlgorithm;
  spread?: Spread[];
  /** A batch job with a schedule is periodic: each time the cron expression (5 fields, or 6 with seconds) comes due, a run (a child batch job) is launched. */
  schedule?: string;
  /** IANA time zone the schedule is read in (with `schedule`; default UTC). */
  timezone?: string;
  overlap?: Overlap;
  periodicRun?: PeriodicRun;
  tasks: TaskSpec[];
}

export interface Job {
  spec: JobSpec;
  version: number;
  status: "running" | "stopped";
  createdAt: number;
  updatedAt: number;
}
