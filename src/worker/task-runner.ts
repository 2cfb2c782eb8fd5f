import type { Driver, ExitResult, RecoveredTask, TaskHandle } from "../driver/driver.ts";
import { DriverError } from "../driver/driver.ts";
import type { Logger } from "../lib/logger.ts";
import type { Assignment, TaskReport } from "../model/api-types.ts";
import { taskName } from "../model/task.ts";
import { formatDuration } from "../model/duration.ts";
import { HealthWatch } from "./health-watch.ts";
import { decideRestart } from "./restart-policy.ts";

export interface TaskRunnerDeps {
  driver: Driver;
  nodeId: string;
  report: (taskId: string, report: TaskReport) => void;
  log: Logger;
  stopTimeoutMs: number;
}

/**
 * Runs one task on this node: starts its container (or adopts one found running), waits for it to
 * exit, restarts it under the task's restart policy, and reports every change as it happens.
 */
export class TaskRunner {
  /** True once the task reached an end (completed, failed or stopped) that this runner reported. */
  finished = false;
  private containerId: string | null = null;
  private stopping = false;
  /** Set by restart(): the next exit is the user's doing, not a crash. */
  private userRestart = false;
  private wakeSleep: (() => void) | null = null;
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

  /**
   * Restarts the task in place on a user's request: the container is stopped and the run loop
   * starts a new one at once. It does not count against the restart policy.
   */
  async restart(): Promise<void> {
    if (this.finished || this.stopping || !this.containerId) throw new Error(`task ${this.name} is not running here`);
    this.userRestart = true;
    await this.deps.driver.stop(this.containerId, this.deps.stopTimeoutMs);
  }

  /** Starts the run loop; `adopted` is a container of this task found on the engine at worker start. */
  start(adopted?: RecoveredTask): void {
    this.loop = this.run(adopted).catch((err) => {
      this.deps.log.error("task runner crashed", { task: this.name, error: (err as Error).message });
      this.finish({ state: "failed", message: `worker error: ${(err as Error).message}` });
    });
  }

  /** Stops and removes the container; reports `stopped` unless the task had already ended. */
  async stop(reason: string, report = true): Promise<void> {
    this.stopping = true;
    this.wakeSleep?.();
    await this.removeContainer();
    await this.loop;
    if (report && !this.finished) this.finish({ state: "stopped", message: reason, containerId: null });
    this.finished = true;
  }

  private async run(adopted?: RecoveredTask): Promise<void> {
    let exit: ExitResult | null = null;
    if (adopted) {
      this.containerId = adopted.containerId;
      if (adopted.running) {
        this.deps.log.info("re-adopted running container", { task: this.name, container: adopted.containerId.slice(0, 12) });
        if (this.assignment.task.state !== "running") {
          this.send({ state: "running", message: "re-adopted its running container", containerId: adopted.containerId, hostPorts: adopted.hostPorts, restarts: this.restarts });
        }
      }
      // An adopted container that already exited is handled like a crash: the restart policy decides.
      // One that was created but never started (the worker died in between) says nothing; start afresh.
      exit = adopted.running || adopted.startedAt > 0 ? await this.watch(adopted.containerId, adopted.hostPorts).catch(() => null) : null;
      if (this.stopping) return;
      if (exit === null) await this.removeContainer();
    }
    while (!this.stopping) {
      let message = "started";
      if (exit !== null) {
        const next = await this.afterExit(exit);
        if (next === null) return;
        message = next;
      }
      try {
        const handle = await this.startContainer();
        if (!handle) return;
        this.containerId = handle.containerId;
        if (this.stopping) return;
        this.send({ state: "running", message, containerId: handle.containerId, hostPorts: handle.hostPorts, restarts: this.restarts, exitCode: null, health: this.assignment.spec.health ? "starting" : null });
        exit = await this.watch(handle.containerId, handle.hostPorts);
      } catch (err) {
        if (this.stopping) return;
        const permanent = err instanceof DriverError && (err.code === "image_not_found" || err.code === "image_pull_failed");
        if (permanent) {
          this.finish({ state: "failed", message: (err as Error).message });
          return;
        }
        exit = { exitCode: -1, oomKilled: false, description: `start failed: ${(err as Error).message}`, finishedAt: Date.now() };
        continue;
      }
      if (this.stopping) return;
    }
  }

  /**
   * Decides what an exit means: a completed batch task, a restart (the user's, or the policy's after
   * its delay), or a failure. Returns the message for the restart, or null when the run is over.
   */
  private async afterExit(exit: ExitResult): Promise<string | null> {
    const { restart } = this.assignment.spec;
    if (this.assignment.jobType === "batch" && exit.exitCode === 0 && !this.userRestart) {
      this.finish({ state: "completed", message: exit.description, exitCode: 0 });
      return null;
    }
    if (this.userRestart) {
      this.userRestart = false;
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
    this.send({ state: "running", message: `${exit.description}; restarting in ${formatDuration(decision.delayMs)} (attempt ${decision.attempt}/${restart.attempts})`, exitCode: exit.exitCode });
    await this.sleep(decision.delayMs);
    if (this.stopping) return null;
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
    const exited = driver.wait(containerId).catch((err: Error): ExitResult => ({ exitCode: -1, oomKilled: false, description: `container lost: ${err.message}`, finishedAt: Date.now() }));
    const check = this.assignment.spec.health;
    if (!check) return exited;
    const health = new HealthWatch(check, { containerId, hostPorts }, driver, () => this.send({ state: "running", message: "health check passing", health: "healthy" }));
    const outcome = await Promise.race([exited.then((exit) => ({ exit })), health.unhealthy.then((reason) => ({ reason }))]);
    health.stop();
    if ("exit" in outcome) return outcome.exit;
    this.send({ state: "running", message: outcome.reason, health: "unhealthy" });
    await driver.stop(containerId, this.deps.stopTimeoutMs).catch(() => undefined);
    const exit = await exited;
    return { ...exit, description: `unhealthy (${outcome.reason}), then ${exit.description}` };
  }

  /**
   * Starts the task's container. The engine being away (restarting, say) is not the task's fault, so
   * the runner waits for it to answer again instead of spending restart attempts. Null when stopped meanwhile.
   */
  private async startContainer(): Promise<TaskHandle | null> {
    const { task, spec } = this.assignment;
    for (let delay = 250; !this.stopping; delay = Math.min(delay * 2, 5_000)) {
      try {
        return await this.deps.driver.start({ taskId: this.taskId, job: task.job, group: task.group, index: task.index, nodeId: this.deps.nodeId, spec });
      } catch (err) {
        if (!(err instanceof DriverError && err.code === "engine_unreachable")) throw err;
        this.deps.log.warn("container engine unreachable, waiting for it", { task: this.name, retryInMs: delay, reason: err.message });
        await this.sleep(delay);
      }
    }
    return null;
  }

  private send(report: TaskReport): void {
    this.deps.report(this.taskId, report);
  }

  private finish(report: TaskReport): void {
    if (this.finished) return;
    this.finished = true;
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
      this.deps.log.warn("could not remove container", { task: this.name, container: id.slice(0, 12), error: (err as Error).message });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = done;
    });
  }
}
