import type { ContainerSummary, Driver, ExitResult, RecoveredTask, TaskHandle } from "../driver/driver.ts";
import { DriverError } from "../driver/driver.ts";
import { Backoff, sleep } from "../lib/backoff.ts";
import { ConflictError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { Assignment, TaskReport } from "../model/api-types.ts";
import { formatDuration } from "../model/duration.ts";
import { taskName } from "../model/task.ts";
import { HealthWatch } from "./health-watch.ts";
import { decideRestart } from "./restart-policy.ts";
import { type SecretDelivery, SecretDeliveryError } from "./secret-delivery.ts";
import type { WorkerMetrics } from "./worker-metrics.ts";

export interface TaskRunnerDeps {
  driver: Driver;
  nodeId: string;
  report: (taskId: string, report: TaskReport) => void;
  log: Logger;
  stopTimeoutMs: number;
  /** The containers' resolvers: the node's DNS server, when it runs one (see NodeServices). */
  dns?: string[];
  metrics?: Pick<WorkerMetrics, "containerStarted">;
  /** The task's image is not on the engine and could not be pulled (the manager is told, so it places the task only where the image is). */
  imageUnavailable?: (image: string, message: string) => void;
  /** Gets the task's secrets to its container, and removes them when the task ends. */
  secrets?: Pick<SecretDelivery, "deliver" | "remove">;
}

/** What the runner is doing, for the decisions that depend on it (restart on request, the engine sweep). */
type Phase = "starting" | "running" | "waiting" | "ended";

const exitOf = (description: string): ExitResult => ({ exitCode: -1, oomKilled: false, description, finishedAt: Date.now() });

/**
 * Runs one task on this node: starts its container (or adopts one found running), waits for it to
 * exit, restarts it under the task's restart policy, and reports every change as it happens. The task
 * is reported `running` only while its container runs; between attempts it is `restarting`.
 * A stop wins over anything in flight: a container that a start was still creating is removed too.
 */
export class TaskRunner {
  /** True once the task reached an end (completed, failed or stopped) that this runner reported. */
  finished = false;
  private phase: Phase = "starting";
  private containerId: string | null = null;
  /** When this runner learnt of its current container, to tell an engine listing older than it from news. */
  private containerSince = 0;
  private readonly stopping = new AbortController();
  /** Ends a stop's shutdown delay early. */
  private readonly drainCut = new AbortController();
  private stopped: Promise<void> | null = null;
  /** Set by restart(): the next exit is the user's doing, not a crash. */
  private userRestart = false;
  /** Ends the current watch as an exit, when the engine no longer lists the container. */
  private vanished: ((exit: ExitResult) => void) | null = null;
  private loop: Promise<void> = Promise.resolve();
  private readonly restartTimes: number[] = [];
  private restarts: number;
  readonly name: string;

  constructor(
    private readonly assignment: Assignment,
    private readonly deps: TaskRunnerDeps,
  ) {
    this.restarts = assignment.task.restarts;
    this.name = taskName(assignment.task);
  }

  get taskId(): string {
    return this.assignment.task.id;
  }

  /** The task's container, running or exited; null between restarts or once removed. */
  get container(): string | null {
    return this.containerId;
  }

  /** Wants its container to run: neither ended nor told to stop. */
  get live(): boolean {
    return !this.finished && !this.stopping.signal.aborted;
  }

  /** What the task asks of a worker that lost the manager: stop it after this long (disconnect.stop_after). */
  get stopAfterDisconnectMs(): number | null {
    return this.assignment.spec.disconnect?.stopAfterMs ?? null;
  }

  /**
   * Restarts the task in place on a user's request: the container is stopped and the run loop
   * starts a new one at once. It does not count against the restart policy. A task that is not
   * running (still starting, between attempts, ended or stopping) cannot be restarted: a ConflictError says why.
   */
  async restart(): Promise<void> {
    if (!this.live) throw new ConflictError(`task ${this.name} is ${this.finished ? "finished" : "stopping"} on this node; only a running task can be restarted`);
    if (this.phase !== "running" || this.containerId === null) {
      const doing = this.phase === "starting" ? "still starting its container" : "between restart attempts";
      throw new ConflictError(`task ${this.name} is ${doing}, not running; only a running task can be restarted`);
    }
    if (this.userRestart) return;
    this.userRestart = true;
    try {
      await this.deps.driver.stop(this.containerId, this.deps.stopTimeoutMs);
    } catch (err) {
      this.userRestart = false;
      throw err;
    }
  }

  /** Starts the run loop; `adopted` is a container of this task found on the engine at worker start. */
  start(adopted?: RecoveredTask): void {
    this.loop = this.run(adopted)
      .catch((err) => {
        this.deps.log.error("task runner crashed", { task: this.name, error: (err as Error).message });
        this.finish({ state: "failed", message: `worker error: ${(err as Error).message}` });
      })
      .finally(() => {
        this.phase = "ended";
      });
  }

  /**
   * Stops and removes the container; reports `stopped` unless the task had already ended. Calling it
   * again waits for the first call. `afterMs`: the task keeps running that long first (its
   * shutdown_delay: it left the service catalog when the stop was asked for, and proxies stop sending
   * it requests meanwhile); a later call without a delay cuts the wait short.
   */
  stop(reason: string, report = true, afterMs = 0): Promise<void> {
    if (afterMs <= 0) this.drainCut.abort();
    this.stopped ??= (afterMs > 0 ? sleep(afterMs, this.drainCut.signal) : Promise.resolve()).then(() => this.stopNow(reason, report));
    return this.stopped;
  }

  /**
   * What the engine's container list, taken at `listedAt`, says of this task. A container it no
   * longer lists while the runner watches it has vanished (removed behind Cube's back): that ends
   * the watch like an exit, so the restart policy decides. A listing older than the container says nothing.
   */
  noticeListing(listed: ContainerSummary | undefined, listedAt: number): void {
    if (this.phase !== "running" || this.vanished === null || this.containerSince >= listedAt) return;
    if (listed?.containerId === this.containerId) return;
    this.vanished(exitOf("container vanished from the engine"));
  }

  private async stopNow(reason: string, report: boolean): Promise<void> {
    this.stopping.abort();
    // Removing the container ends a watch on it; a start in flight makes its container after this, so remove again once the loop is done.
    await this.removeContainer();
    await this.loop;
    await this.removeContainer();
    if (report && !this.finished) this.finish({ state: "stopped", message: reason, containerId: null });
    this.finished = true;
    this.deps.secrets?.remove(this.taskId);
  }

  private get isStopping(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(adopted?: RecoveredTask): Promise<void> {
    let exit = adopted ? await this.adopt(adopted) : null;
    let message = "started";
    while (!this.isStopping) {
      if (exit !== null) {
        const next = await this.afterExit(exit);
        if (next === null || this.isStopping) return;
        message = next;
      }
      this.phase = "starting";
      let handle: TaskHandle | null;
      try {
        handle = await this.startContainer();
      } catch (err) {
        if (this.isStopping) return;
        const noImage = err instanceof DriverError && (err.code === "image_not_found" || err.code === "image_pull_failed");
        if (noImage) this.deps.imageUnavailable?.(this.assignment.spec.image, (err as Error).message);
        if (noImage || (err instanceof SecretDeliveryError && err.permanent)) {
          // No exit code: the task never ran, so a batch slot is not done by it (reconcile.ts).
          this.finish({ state: "failed", message: (err as Error).message });
          return;
        }
        exit = exitOf(`start failed: ${(err as Error).message}`);
        continue;
      }
      if (handle === null) return;
      this.holdContainer(handle.containerId);
      if (this.isStopping) return;
      this.phase = "running";
      this.send({ state: "running", message, containerId: handle.containerId, hostPorts: handle.hostPorts, restarts: this.restarts, exitCode: null, health: this.assignment.spec.health ? "starting" : null });
      exit = await this.watch(handle.containerId, handle.hostPorts);
    }
  }

  /**
   * Takes over a container found at worker start. A running one is watched as if this runner had
   * started it; one that already exited is handled like a crash (the restart policy decides); one that
   * was created but never started (the worker died in between) says nothing and is replaced.
   */
  private async adopt(adopted: RecoveredTask): Promise<ExitResult | null> {
    this.holdContainer(adopted.containerId, 0);
    if (adopted.running) {
      this.deps.log.info("re-adopted running container", { task: this.name, container: adopted.containerId.slice(0, 12) });
      this.phase = "running";
      if (this.assignment.task.state !== "running") {
        this.send({ state: "running", message: "re-adopted its running container", containerId: adopted.containerId, hostPorts: adopted.hostPorts, restarts: this.restarts });
      }
    }
    const exit = adopted.running || adopted.startedAt > 0 ? await this.watch(adopted.containerId, adopted.hostPorts) : null;
    if (exit === null) await this.removeContainer();
    return exit;
  }

  /**
   * Decides what an exit means: a completed batch task, a restart (the user's, or the policy's after
   * its delay), or a failure. Returns the message for the restart, or null when the run is over.
   */
  private async afterExit(exit: ExitResult): Promise<string | null> {
    this.phase = "waiting";
    const { restart } = this.assignment.spec;
    // A batch task, or one restarted on failure only, is done when it exits 0.
    const completes = this.assignment.jobType === "batch" || restart.condition === "on-failure";
    if (completes && exit.exitCode === 0 && !this.userRestart) {
      this.finish({ state: "completed", message: exit.description, exitCode: 0 });
      return null;
    }
    if (this.userRestart) {
      this.userRestart = false;
      this.send({ state: "restarting", message: "restarting on request", exitCode: exit.exitCode, nextAttemptAt: Date.now() });
      await this.removeContainer();
      this.restarts++;
      return `restarted on request (restart ${this.restarts})`;
    }
    const decision = decideRestart(restart, this.restartTimes, Date.now());
    if (!decision.restart) {
      this.finish({ state: "failed", message: `${exit.description}; ${decision.reason}`, exitCode: exit.exitCode });
      return null;
    }
    this.deps.log.info("restarting", { task: this.name, after: exit.description, delayMs: decision.delayMs });
    const nextAttemptAt = Date.now() + decision.delayMs;
    this.send({ state: "restarting", message: `${exit.description}; restarting in ${formatDuration(decision.delayMs)} (attempt ${decision.attempt}/${restart.attempts})`, exitCode: exit.exitCode, nextAttemptAt });
    // The exited container stays during the delay, so its logs can still be read.
    await sleep(decision.delayMs, this.stopping.signal);
    if (this.isStopping) return null;
    await this.removeContainer();
    this.restartTimes.push(Date.now());
    this.restarts++;
    return `restarted after ${exit.description} (restart ${this.restarts}, attempt ${this.restartTimes.length}/${restart.attempts})`;
  }

  /**
   * Waits for the container to exit while its health check (if any) runs. A check that keeps failing
   * stops the container, and the exit then reads as unhealthy so the restart policy treats it as a crash.
   */
  private async watch(containerId: string, hostPorts: Record<string, number>): Promise<ExitResult> {
    const { driver } = this.deps;
    const gone = new Promise<ExitResult>((resolve) => {
      this.vanished = resolve;
    });
    const exited = Promise.race([driver.wait(containerId).catch((err: Error) => exitOf(`container lost: ${err.message}`)), gone]);
    try {
      const check = this.assignment.spec.health;
      if (!check) return await exited;
      const health = new HealthWatch(check, { containerId, hostPorts }, driver, () => this.send({ state: "running", message: "health check passing", health: "healthy" }));
      const outcome = await Promise.race([exited.then((exit) => ({ exit })), health.unhealthy.then((reason) => ({ reason }))]);
      health.stop();
      if ("exit" in outcome) return outcome.exit;
      this.send({ state: "running", message: outcome.reason, health: "unhealthy" });
      await driver.stop(containerId, this.deps.stopTimeoutMs).catch(() => undefined);
      const exit = await exited;
      return { ...exit, description: `unhealthy (${outcome.reason}), then ${exit.description}` };
    } finally {
      this.vanished = null;
    }
  }

  /**
   * Starts the task's container, with its secrets. The engine being away (restarting, say) is not the
   * task's fault, so the runner waits for it to answer again instead of spending restart attempts, and
   * says so once. Null when stopped meanwhile.
   */
  private async startContainer(): Promise<TaskHandle | null> {
    const { task, spec } = this.assignment;
    const secrets = await this.deps.secrets?.deliver(this.assignment);
    const backoff = new Backoff();
    let told = false;
    while (!this.isStopping) {
      try {
        const started = performance.now();
        const { dns } = this.deps;
        const handle = await this.deps.driver.start({ taskId: this.taskId, job: task.job, group: task.group, index: task.index, nodeId: this.deps.nodeId, spec, ...(dns ? { dns } : {}), ...(secrets ? { secrets } : {}) });
        this.deps.metrics?.containerStarted((performance.now() - started) / 1000);
        return handle;
      } catch (err) {
        if (!(err instanceof DriverError && err.code === "engine_unreachable")) throw err;
        this.deps.log.warn("container engine unreachable, waiting for it", { task: this.name, retryInMs: backoff.delayMs, reason: err.message });
        if (!told) this.send({ state: "restarting", message: `waiting for the container engine: ${err.message}`, nextAttemptAt: null });
        told = true;
        await backoff.wait(this.stopping.signal);
      }
    }
    return null;
  }

  private holdContainer(containerId: string, since = Date.now()): void {
    this.containerId = containerId;
    this.containerSince = since;
  }

  private send(report: TaskReport): void {
    this.deps.report(this.taskId, report);
  }

  /** The task ended here: reported once, and its secrets leave the tmpfs (its exited container, kept for its logs, needs them no more). */
  private finish(report: TaskReport): void {
    if (this.finished) return;
    this.finished = true;
    this.deps.secrets?.remove(this.taskId);
    this.send({ restarts: this.restarts, ...report });
  }

  private async removeContainer(): Promise<void> {
    const id = this.containerId;
    if (!id) return;
    this.containerId = null;
    try {
      await this.deps.driver.stop(id, this.deps.stopTimeoutMs);
      await this.deps.driver.destroy(id);
    } catch (err) {
      // The engine sweep removes what is left once the engine answers again.
      this.deps.log.warn("could not remove container", { task: this.name, container: id.slice(0, 12), error: (err as Error).message });
    }
  }
}
