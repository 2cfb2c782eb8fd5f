import type { HostAccess, TaskSpec } from "../model/job.ts";

/** Labels on every container Cube starts, so a restarted worker finds its own and removes orphans. */
export const LABELS = { taskId: "cube.task.id", job: "cube.job", group: "cube.group", index: "cube.index", nodeId: "cube.node.id", volume: "cube.volume" } as const;

/**
 * The engine's name of a job's named volume on a node. The node is part of it: the nodes of `cube dev`
 * share one engine, and each keeps its own copy, as separate machines would.
 * @example engineVolumeName("shop", "pgdata", "6f1c…") // "cube-shop-pgdata-6f1c…"
 */
export function engineVolumeName(job: string, volume: string, nodeId: string): string {
  return `cube-${job}-${volume}-${nodeId}`;
}

export interface TaskConfig {
  taskId: string;
  job: string;
  group: string;
  index: number;
  nodeId: string;
  spec: Pick<TaskSpec, "image" | "command" | "entrypoint" | "env" | "labels" | "resources" | "ports" | "volumes" | keyof HostAccess>;
  /** Resolvers for the container (the node's DNS server, which knows NAME.service.cube); unless it uses the host's network or none. */
  dns?: string[];
  secrets?: TaskSecrets;
}

/** A task's secrets as its container gets them: files on the worker's tmpfs, each mounted read-only, and the variables the task asked for. */
export interface TaskSecrets {
  files: { source: string; target: string }[];
  env: Record<string, string>;
}

export interface TaskHandle {
  taskId: string;
  containerId: string;
  hostPorts: Record<string, number>;
  startedAt: number;
}

export interface ExitResult {
  exitCode: number;
  oomKilled: boolean;
  /** For people: "exit code 0", "exit code 137 (OOM killed)", "exit code 143 (signal 15, SIGTERM)". */
  description: string;
  finishedAt: number;
}

export interface RecoveredTask {
  taskId: string;
  job: string;
  group: string;
  index: number;
  containerId: string;
  running: boolean;
  /** null while running, or when the container was created but never started. */
  exitCode: number | null;
  hostPorts: Record<string, number>;
  /** 0 when the container never started. */
  startedAt: number;
}

/** One line of the engine's container list: cheap enough to ask for every few seconds. */
export interface ContainerSummary {
  containerId: string;
  /** The `cube.task.id` label. */
  taskId: string;
  /** A process exists (running, paused or being restarted by the engine). */
  running: boolean;
}

export interface LogOptions {
  follow: boolean;
  tail?: number;
  stdout: boolean;
  stderr: boolean;
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number;
  /** stdout and stderr interleaved, at most `maxOutputBytes`. */
  output: string;
}

export interface ContainerStats {
  /** Total cpu time used since the container started. */
  cpuSeconds: number;
  memoryBytes: number;
}

export type DriverErrorCode = "image_not_found" | "image_pull_failed" | "image_load_failed" | "engine_unreachable" | "container_failed" | "not_found" | "volume_in_use";

export class DriverError extends Error {
  constructor(
    message: string,
    readonly code: DriverErrorCode,
  ) {
    super(message);
  }
}

/** What runs a task's process; shaped like Nomad's task-driver plugin. */
export interface Driver {
  /** Throws DriverError("engine_unreachable") naming where the engine was looked for. */
  ping(): Promise<void>;
  /**
   * Creates and starts the container, pulling a missing image (a failed pull throws a DriverError naming
   * the image and the registry's reason); returns the host ports the engine bound. A container that
   * could not start is removed.
   */
  start(config: TaskConfig): Promise<TaskHandle>;
  /** Resolves when the container exits (at once if it already has); DriverError("not_found") if it is gone. */
  wait(containerId: string): Promise<ExitResult>;
  /** The container's stop signal, then SIGKILL after timeoutMs; already stopped or gone is fine. */
  stop(containerId: string, timeoutMs: number): Promise<void>;
  /** Force-removes the container and its anonymous volumes; already gone is fine. */
  destroy(containerId: string): Promise<void>;
  /** Every container carrying this node's id label, running or not, decoded from its labels. */
  recover(nodeId: string): Promise<RecoveredTask[]>;
  /** Every container carrying this node's id label, from one list call (no inspect per container). */
  list(nodeId: string): Promise<ContainerSummary[]>;
  /**
   * Demultiplexed output as plain bytes, stdout and stderr interleaved in the order the engine sent them.
   * The stream closes when the output ends (not following, or the container exited) or the signal aborts.
   */
  logs(containerId: string, options: LogOptions): Promise<ReadableStream<Uint8Array>>;
  /** One reading of the container's cpu time and memory, without waiting for a second sample. */
  stats(containerId: string): Promise<ContainerStats>;
  /** Runs a command inside the running container and waits for it (health checks, `cube exec`). */
  exec(containerId: string, command: string[], timeoutMs: number): Promise<ExecResult>;
}

/** A named volume a node's engine holds for a job (labelled so by the driver when a task first mounted it). */
export interface NodeVolume {
  /** The volume's name in the job file. */
  name: string;
  job: string;
  /** Its name on the engine (engineVolumeName). */
  engineName: string;
  /** Bytes used, as the engine measured them; null when it could not say. */
  sizeBytes: number | null;
  createdAt: number;
}

/** The named volumes of a node's tasks, for `cube volume list` and `rm`. */
export interface VolumeEngine {
  volumes(nodeId: string): Promise<NodeVolume[]>;
  /** Removes the volume and its data; DriverError("volume_in_use") while a container uses it; already gone is fine. */
  removeVolume(engineName: string): Promise<void>;
}

/** The engine's networks, as far as the node's services need them. */
export interface NetworkEngine {
  /** The host device of the engine's default bridge network (`docker0`), null when the engine has none. */
  defaultBridge(): Promise<string | null>;
}

/** The images an engine holds, for pushing images to nodes without a registry (`cube image push`). */
export interface ImageEngine {
  /** The id (`sha256:…`) and size in bytes of the image a reference names on this engine, null when it has none. */
  image(ref: string): Promise<{ id: string; size: number } | null>;
  /** Every image on the engine: ids and `NAME:TAG` references. */
  images(): Promise<string[]>;
  /** Loads a `docker save` archive into the engine; returns what it loaded (references, or ids of untagged images). */
  loadImage(tar: ReadableStream<Uint8Array>): Promise<string[]>;
  /** The image as a `docker save` archive, streamed from the engine. */
  saveImage(ref: string): Promise<ReadableStream<Uint8Array>>;
}
