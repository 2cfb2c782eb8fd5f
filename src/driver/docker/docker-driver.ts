import Docker from "dockerode";
import { DriverError, LABELS, type Driver, type ExitResult, type LogOptions, type RecoveredTask, type TaskConfig, type TaskHandle } from "../driver.ts";
import { boundPorts, containerSpec, PORTS_LABEL } from "./container-spec.ts";
import { engineMessage, engineStatus, wrapEngineError } from "./engine-errors.ts";
import { describeExit } from "./exit-description.ts";
import { demuxedLogStream } from "./log-stream.ts";

export interface DockerDriverOptions {
  socketPath?: string;
  /** Added to every container (tests label theirs to clean them up). */
  extraLabels?: Record<string, string>;
}

function defaultSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith("unix://") ? host.slice("unix://".length) : "/var/run/docker.sock";
}

/** The Docker Engine driver, on dockerode. Cube alone restarts tasks: containers get Docker's policy "no". */
export class DockerDriver implements Driver {
  private readonly docker: Docker;
  private readonly socketPath: string;
  private readonly extraLabels: Record<string, string>;

  constructor(options: DockerDriverOptions = {}) {
    this.socketPath = options.socketPath ?? defaultSocket();
    this.docker = new Docker({ socketPath: this.socketPath });
    this.extraLabels = options.extraLabels ?? {};
  }

  async ping(): Promise<void> {
    await this.engine(() => this.docker.ping());
  }

  async start(config: TaskConfig): Promise<TaskHandle> {
    const container = await this.create(config);
    try {
      await this.engine(() => container.start());
      const names = Object.fromEntries(config.spec.ports.map((p) => [p.name, p.container]));
      // Host ports picked by the engine are only known after start; without ports, skip the round trip.
      const ports = config.spec.ports.length > 0 ? (await this.engine(() => container.inspect())).NetworkSettings.Ports : {};
      return { taskId: config.taskId, containerId: container.id, hostPorts: boundPorts(names, ports), startedAt: Date.now() };
    } catch (err) {
      // Nothing half-made stays behind: a container that could not start is removed.
      await container.remove({ force: true }).catch(() => undefined);
      if (err instanceof DriverError) throw err;
      throw new DriverError(`cannot start the container for task ${config.taskId}: ${engineMessage(err)}`, "container_failed");
    }
  }

  /** Creates the container, pulling its image first only when the engine says it is missing. */
  private async create(config: TaskConfig): Promise<Docker.Container> {
    const spec = containerSpec(config, this.extraLabels);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.engine(() => this.docker.createContainer(spec));
      } catch (err) {
        if (err instanceof DriverError) throw err;
        if (engineStatus(err) === 404 && attempt === 0) {
          await this.pull(config.spec.image);
          continue;
        }
        throw new DriverError(`cannot create the container for task ${config.taskId}: ${engineMessage(err)}`, "container_failed");
      }
    }
  }

  async wait(containerId: string): Promise<ExitResult> {
    const container = this.docker.getContainer(containerId);
    try {
      await this.engine(() => container.wait());
      const info = await this.engine(() => container.inspect());
      const exitCode = info.State.ExitCode;
      const oomKilled = info.State.OOMKilled;
      return { exitCode, oomKilled, description: describeExit(exitCode, oomKilled), finishedAt: Date.parse(info.State.FinishedAt) || Date.now() };
    } catch (err) {
      if (engineStatus(err) === 404) throw new DriverError(`container ${containerId.slice(0, 12)} no longer exists`, "not_found");
      throw err;
    }
  }

  async stop(containerId: string, timeoutMs: number): Promise<void> {
    try {
      await this.engine(() => this.docker.getContainer(containerId).stop({ t: Math.max(0, Math.ceil(timeoutMs / 1000)) }));
    } catch (err) {
      // 304: already stopped; 404: already gone. Both are what stop wants.
      if (engineStatus(err) !== 304 && engineStatus(err) !== 404) throw err;
    }
  }

  async destroy(containerId: string): Promise<void> {
    try {
      await this.engine(() => this.docker.getContainer(containerId).remove({ force: true, v: true }));
    } catch (err) {
      // 409: removal already in progress, which ends the same way.
      if (engineStatus(err) !== 404 && engineStatus(err) !== 409) throw err;
    }
  }

  async recover(nodeId: string): Promise<RecoveredTask[]> {
    const containers = await this.engine(() => this.docker.listContainers({ all: true, filters: { label: [`${LABELS.nodeId}=${nodeId}`] } }));
    return containers.map((c) => {
      const labels = c.Labels ?? {};
      const names = JSON.parse(labels[PORTS_LABEL] ?? "{}") as Record<string, number>;
      const hostPorts: Record<string, number> = {};
      for (const [name, containerPort] of Object.entries(names)) {
        const bound = c.Ports.find((p) => p.PrivatePort === containerPort && p.PublicPort && !(p.IP ?? "").includes(":"));
        if (bound?.PublicPort) hostPorts[name] = bound.PublicPort;
      }
      return {
        taskId: labels[LABELS.taskId] ?? "",
        job: labels[LABELS.job] ?? "",
        group: labels[LABELS.group] ?? "",
        index: Number(labels[LABELS.index] ?? -1),
        containerId: c.Id,
        running: c.State === "running",
        hostPorts,
      };
    });
  }

  async logs(containerId: string, options: LogOptions): Promise<ReadableStream<Uint8Array>> {
    const container = this.docker.getContainer(containerId);
    const common = { stdout: options.stdout, stderr: options.stderr, ...(options.tail !== undefined ? { tail: options.tail } : {}) };
    try {
      const source = options.follow
        ? await this.engine(() => container.logs({ ...common, follow: true }))
        : await this.engine(() => container.logs({ ...common, follow: false }));
      return demuxedLogStream(this.docker, source, options.stdout, options.stderr, options.signal);
    } catch (err) {
      if (engineStatus(err) === 404) throw new DriverError(`container ${containerId.slice(0, 12)} no longer exists`, "not_found");
      throw err;
    }
  }

  /** A failed pull names the image and the engine's (or registry's) reason. */
  private async pull(image: string): Promise<void> {
    try {
      const stream = await this.engine(() => this.docker.pull(image));
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
      });
    } catch (err) {
      if (err instanceof DriverError) throw err;
      throw new DriverError(`image "${image}" is not on this node and could not be pulled: ${engineMessage(err)}`, "image_pull_failed");
    }
  }

  private async engine<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw wrapEngineError(err, this.socketPath);
    }
  }
}
