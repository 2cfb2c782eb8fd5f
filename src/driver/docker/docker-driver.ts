import { Readable } from "node:stream";
import Docker from "dockerode";
import {
  DriverError,
  LABELS,
  type ContainerStats,
  type ContainerSummary,
  type Driver,
  type ExecResult,
  type ExitResult,
  type ImageEngine,
  type LogOptions,
  type NetworkEngine,
  type NodeVolume,
  type RecoveredTask,
  type TaskConfig,
  type TaskHandle,
  type VolumeEngine,
} from "../driver.ts";
import { boundPorts, portNames, portNamesFromLabels } from "./container-ports.ts";
import { engineAddress } from "./engine-address.ts";
import { containerSpec } from "./container-spec.ts";
import { engineMessage, engineStatus, engineUnreachable, toDriverError } from "./engine-errors.ts";
import { describeExit } from "./exit-description.ts";
import { collectExecOutput } from "./exec-output.ts";
import { demuxedLogStream } from "./log-stream.ts";
import { StopPacer } from "./stop-pacer.ts";

export interface DockerDriverOptions {
  /** The engine's socket; overrides `host`. */
  socketPath?: string;
  /** `unix:///path` or `tcp://host:port` (`--docker-host`); default DOCKER_HOST, else /var/run/docker.sock. */
  host?: string;
  /** Added to every container (tests label theirs to clean them up). */
  extraLabels?: Record<string, string>;
}

/** How many of one engine's containers may be signalled at once, and how long each keeps its turn (see StopPacer). */
const STOPS_AT_ONCE = 8;
const STOP_SETTLE_MS = 1_000;

/** The engine writes year 1 for a time that never happened (a container never started or still running). */
function engineTime(iso: string): number {
  const ms = Date.parse(iso);
  return ms > 0 ? ms : 0;
}

/** Engine ids read best cut to 12 characters, as `docker ps` shows them; names stay whole. */
const short = (containerId: string) => (/^[0-9a-f]{64}$/.test(containerId) ? containerId.slice(0, 12) : containerId);

/** The Docker Engine driver, on dockerode. Cube alone restarts tasks: containers get Docker's policy "no". */
export class DockerDriver implements Driver, ImageEngine, NetworkEngine, VolumeEngine {
  private readonly docker: Docker;
  private readonly socketPath: string;
  private readonly extraLabels: Record<string, string>;
  private readonly stops = new StopPacer(STOPS_AT_ONCE, STOP_SETTLE_MS);

  constructor(options: DockerDriverOptions = {}) {
    const address = options.socketPath ? { options: { socketPath: options.socketPath }, where: options.socketPath } : engineAddress(options.host ?? process.env.DOCKER_HOST);
    this.socketPath = address.where;
    this.docker = new Docker(address.options);
    this.extraLabels = options.extraLabels ?? {};
  }

  async ping(): Promise<void> {
    await this.engine("the Docker engine did not answer a ping", () => this.docker.ping());
  }

  async start(config: TaskConfig): Promise<TaskHandle> {
    const container = await this.create(config);
    try {
      await container.start();
      // Host ports picked by the engine are only known after start; without ports, skip the round trip.
      const ports = config.spec.ports.length > 0 ? (await container.inspect()).NetworkSettings.Ports : {};
      return { taskId: config.taskId, containerId: container.id, hostPorts: boundPorts(portNames(config.spec.ports), ports), startedAt: Date.now() };
    } catch (err) {
      // Nothing half-made stays behind: a container that could not start is removed.
      await container.remove({ force: true, v: true }).catch(() => undefined);
      throw toDriverError(err, `cannot start the container of task ${config.taskId} (image "${config.spec.image}")`, this.socketPath);
    }
  }

  /**
   * Creates the container, pulling its image only when the engine says it is missing: asking first would
   * cost every start an extra round trip for the rare missing image.
   */
  private async create(config: TaskConfig): Promise<Docker.Container> {
    const spec = containerSpec(config, this.extraLabels);
    const action = `cannot create the container of task ${config.taskId} (image "${config.spec.image}")`;
    try {
      return await this.docker.createContainer(spec);
    } catch (err) {
      // 409: a container of this very task (the name holds its id) was left behind, e.g. when the engine
      // went away before it could be removed. It is ours to replace.
      if (engineStatus(err) === 409 && spec.name) {
        await this.destroy(spec.name);
        return await this.engine(action, () => this.docker.createContainer(spec));
      }
      // On create, 404 means "no such image".
      if (engineStatus(err) !== 404) throw toDriverError(err, action, this.socketPath);
    }
    await this.pull(config.spec.image);
    try {
      return await this.docker.createContainer(spec);
    } catch (err) {
      throw engineUnreachable(err, this.socketPath) ?? new DriverError(`${action}: ${engineMessage(err)}`, "container_failed");
    }
  }

  async image(ref: string): Promise<{ id: string; size: number } | null> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return { id: info.Id, size: info.Size };
    } catch (err) {
      if (engineStatus(err) === 404) return null;
      throw toDriverError(err, `cannot inspect image "${ref}"`, this.socketPath);
    }
  }

  async images(): Promise<string[]> {
    const list = await this.engine("cannot list images", () => this.docker.listImages());
    return list.flatMap((image) => [image.Id, ...(image.RepoTags ?? []).filter((tag) => tag !== "<none>:<none>")]);
  }

  async loadImage(tar: ReadableStream<Uint8Array>): Promise<string[]> {
    const action = "cannot load the image into the engine";
    const response = await this.engine(action, () => this.docker.loadImage(Readable.fromWeb(tar as unknown as import("node:stream/web").ReadableStream<Uint8Array>), { quiet: true }));
    // The engine answers with JSON lines: `Loaded image: NAME:TAG`, `Loaded image ID: sha256:…`, or an error.
    const lines = await new Promise<{ stream?: string; error?: string }[]>((resolve, reject) => {
      this.docker.modem.followProgress(response, (err: Error | null, output: { stream?: string; error?: string }[]) => (err ? reject(new DriverError(`${action}: ${err.message}`, "image_load_failed")) : resolve(output)));
    });
    const error = lines.find((line) => line.error !== undefined)?.error;
    if (error !== undefined) throw new DriverError(`${action}: ${error}`, "image_load_failed");
    return lines.flatMap((line) => /^Loaded image(?: ID)?: (\S+)/.exec(line.stream ?? "")?.slice(1, 2) ?? []);
  }

  async saveImage(ref: string): Promise<ReadableStream<Uint8Array>> {
    const archive = await this.engine(`cannot save image "${ref}"`, () => this.docker.getImage(ref).get());
    return Readable.toWeb(archive as Readable) as unknown as ReadableStream<Uint8Array>;
  }

  async volumes(nodeId: string): Promise<NodeVolume[]> {
    const list = await this.engine(`cannot list the volumes of node ${nodeId}`, () => this.docker.listVolumes({ filters: { label: [`${LABELS.nodeId}=${nodeId}`, LABELS.volume] } }));
    const volumes = list.Volumes ?? [];
    if (volumes.length === 0) return [];
    // Only the engine's disk usage report measures volumes; without it, sizes are unknown but the list stands.
    const usage = await this.docker.df().then(
      (df: { Volumes?: { Name: string; UsageData?: { Size: number } | null }[] }) => new Map((df.Volumes ?? []).map((v) => [v.Name, v.UsageData?.Size ?? -1])),
      () => new Map<string, number>(),
    );
    return volumes.map((v) => {
      const size = usage.get(v.Name) ?? -1;
      const created = (v as { CreatedAt?: string }).CreatedAt;
      return { name: v.Labels?.[LABELS.volume] ?? "", job: v.Labels?.[LABELS.job] ?? "", engineName: v.Name, sizeBytes: size >= 0 ? size : null, createdAt: created ? engineTime(created) : 0 };
    });
  }

  async defaultBridge(): Promise<string | null> {
    try {
      const network = (await this.docker.getNetwork("bridge").inspect()) as { Driver?: string; Options?: Record<string, string> };
      return network.Driver === "bridge" ? (network.Options?.["com.docker.network.bridge.name"] ?? "docker0") : null;
    } catch (err) {
      if (engineStatus(err) === 404) return null;
      throw toDriverError(err, "cannot inspect the engine's default bridge network", this.socketPath);
    }
  }

  async removeVolume(engineName: string): Promise<void> {
    try {
      await this.docker.getVolume(engineName).remove();
    } catch (err) {
      if (engineStatus(err) === 404) return;
      if (engineStatus(err) === 409) throw new DriverError(`volume ${engineName} is in use by a container: ${engineMessage(err)}`, "volume_in_use");
      throw toDriverError(err, `cannot remove volume ${engineName}`, this.socketPath);
    }
  }

  /** The engine reports most pull failures as the call's status, some only as an error line in the progress stream. */
  private async pull(image: string): Promise<void> {
    const failed = (reason: string, code: "image_not_found" | "image_pull_failed") =>
      new DriverError(`image "${image}" not found locally and could not be pulled: ${reason}`, code);
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.pull(image);
    } catch (err) {
      // A 404 is the registry answering that the repository or tag does not exist.
      throw engineUnreachable(err, this.socketPath) ?? failed(engineMessage(err), engineStatus(err) === 404 ? "image_not_found" : "image_pull_failed");
    }
    const progress = await new Promise<{ error?: string }[]>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => (err ? reject(failed(err.message, "image_pull_failed")) : resolve(output)));
    });
    const error = progress.find((line) => line.error !== undefined)?.error;
    if (error !== undefined) throw failed(error, "image_pull_failed");
  }

  async wait(containerId: string): Promise<ExitResult> {
    const container = this.docker.getContainer(containerId);
    const action = `cannot wait for container ${short(containerId)}`;
    await this.engine(action, () => container.wait());
    const { State } = await this.engine(action, () => container.inspect());
    return {
      exitCode: State.ExitCode,
      oomKilled: State.OOMKilled,
      description: describeExit(State.ExitCode, State.OOMKilled),
      finishedAt: engineTime(State.FinishedAt) || Date.now(),
    };
  }

  async stop(containerId: string, timeoutMs: number): Promise<void> {
    const container = this.docker.getContainer(containerId);
    const action = `cannot stop container ${short(containerId)}`;
    let info: Docker.ContainerInspectInfo;
    try {
      info = await container.inspect();
    } catch (err) {
      if (engineStatus(err) === 404) return;
      throw toDriverError(err, action, this.socketPath);
    }
    if (!info.State.Running) return;
    // Asked before the signal, so an exit cannot slip by; a wait the engine breaks off ends the same way.
    const exited = container.wait({ condition: "not-running" }).then(
      () => undefined,
      () => undefined,
    );
    const signal = async (name: string): Promise<boolean> => {
      try {
        await container.kill({ signal: name });
        return true;
      } catch (err) {
        // 409: not running (any more); 404: gone. Both are what stop wants.
        if (engineStatus(err) === 409 || engineStatus(err) === 404) return false;
        throw toDriverError(err, action, this.socketPath);
      }
    };
    // The image's STOPSIGNAL, as `docker stop` sends it (dockerode's types leave the field out).
    const stopSignal = (info.Config as { StopSignal?: string }).StopSignal || "SIGTERM";
    await this.stops.stop({ signal, exited }, stopSignal, timeoutMs);
  }

  async destroy(containerId: string): Promise<void> {
    try {
      await this.docker.getContainer(containerId).remove({ force: true, v: true });
    } catch (err) {
      // 404: already gone; 409: a removal is already in progress, which ends the same way.
      if (engineStatus(err) === 404 || engineStatus(err) === 409) return;
      throw toDriverError(err, `cannot remove container ${short(containerId)}`, this.socketPath);
    }
  }

  async recover(nodeId: string): Promise<RecoveredTask[]> {
    // The list lacks exit codes and start times; inspecting each is cheap next to a worker restart.
    const found = await Promise.all((await this.listOf(nodeId)).map((c) => this.recoverOne(c.Id)));
    return found.filter((task): task is RecoveredTask => task !== null);
  }

  async list(nodeId: string): Promise<ContainerSummary[]> {
    return (await this.listOf(nodeId)).map((c) => ({
      containerId: c.Id,
      taskId: c.Labels?.[LABELS.taskId] ?? "",
      running: c.State === "running" || c.State === "paused" || c.State === "restarting",
    }));
  }

  private listOf(nodeId: string): Promise<Docker.ContainerInfo[]> {
    return this.engine(`cannot list the containers of node ${nodeId}`, () => this.docker.listContainers({ all: true, filters: { label: [`${LABELS.nodeId}=${nodeId}`] } }));
  }

  /** null when the container went away since it was listed. */
  private async recoverOne(containerId: string): Promise<RecoveredTask | null> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(containerId).inspect();
    } catch (err) {
      if (engineStatus(err) === 404) return null;
      throw toDriverError(err, `cannot inspect container ${short(containerId)}`, this.socketPath);
    }
    const labels = info.Config.Labels ?? {};
    const { State } = info;
    const neverStarted = State.Status === "created";
    return {
      taskId: labels[LABELS.taskId] ?? "",
      job: labels[LABELS.job] ?? "",
      group: labels[LABELS.group] ?? "",
      index: Number(labels[LABELS.index] ?? -1),
      containerId: info.Id,
      running: State.Running,
      exitCode: State.Running || neverStarted ? null : State.ExitCode,
      hostPorts: boundPorts(portNamesFromLabels(labels), info.NetworkSettings.Ports),
      startedAt: engineTime(State.StartedAt),
    };
  }

  async logs(containerId: string, options: LogOptions): Promise<ReadableStream<Uint8Array>> {
    const container = this.docker.getContainer(containerId);
    const query = { stdout: options.stdout, stderr: options.stderr, ...(options.tail !== undefined ? { tail: options.tail } : {}) };
    const action = `cannot read the logs of container ${short(containerId)}`;
    // Two calls because dockerode's overloads type a followed log as a stream and an unfollowed one as a Buffer.
    const source = options.follow
      ? await this.engine(action, () => container.logs({ ...query, follow: true }))
      : await this.engine(action, () => container.logs({ ...query, follow: false }));
    return demuxedLogStream(this.docker, source, options);
  }

  async stats(containerId: string): Promise<ContainerStats> {
    const container = this.docker.getContainer(containerId);
    // one-shot: the engine answers at once instead of sampling twice a second apart.
    const stats = await this.engine(`cannot read the stats of container ${short(containerId)}`, () => container.stats({ stream: false, "one-shot": true } as { stream: false }));
    return { cpuSeconds: (stats.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1e9, memoryBytes: stats.memory_stats?.usage ?? 0 };
  }

  async exec(containerId: string, command: string[], timeoutMs: number): Promise<ExecResult> {
    const container = this.docker.getContainer(containerId);
    const action = `cannot run ${JSON.stringify(command.join(" "))} in container ${short(containerId)}`;
    const exec = await this.engine(action, () => container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true }));
    const stream = await this.engine(action, () => exec.start({ hijack: true, stdin: false }));
    const output = await collectExecOutput(this.docker, stream, timeoutMs);
    if (output === null) {
      stream.destroy();
      throw new DriverError(`${action}: no answer within ${timeoutMs} ms`, "container_failed");
    }
    const info = await this.engine(action, () => exec.inspect());
    return { exitCode: info.ExitCode ?? -1, output };
  }

  private async engine<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw toDriverError(err, action, this.socketPath);
    }
  }
}
