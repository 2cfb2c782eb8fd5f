import { describe, expect, test } from "bun:test";
import { type ContainerSummary, DriverError, type Driver, type ExitResult, type TaskConfig } from "../../src/driver/driver.ts";
import { ConflictError } from "../../src/lib/errors.ts";
import { createLogger } from "../../src/lib/logger.ts";
import type { Assignment, TaskReport } from "../../src/model/api-types.ts";
import { TaskRunner } from "../../src/worker/task-runner.ts";
import { waitFor } from "../support/wait-for.ts";
import { makeTask, makeTaskSpec } from "./fixtures.ts";

/**
 * A driver whose containers exit with the codes queued for them. The engine can be switched off, and
 * starts can be held open after the container runs but before start() returns — the moment a stop
 * must still win.
 */
class ScriptedDriver implements Driver {
  engineUp = true;
  starts = 0;
  /** Containers the engine holds, by id: running or exited. */
  readonly containers = new Map<string, { taskId: string; running: boolean }>();
  private held: { gate: Promise<void>; reach: () => void } | null = null;
  private exits = new Map<string, (r: ExitResult) => void>();
  private waits = new Map<string, Promise<ExitResult>>();

  constructor(readonly exitCodes: number[] = []) {}

  /** The next start blocks once its container runs; `reached` resolves then, `release()` lets it return. */
  holdNextStart(): { release: () => void; reached: Promise<void> } {
    let release = () => {};
    let reach = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const reached = new Promise<void>((resolve) => (reach = resolve));
    this.held = { gate, reach };
    return { release, reached };
  }

  runningContainers(): string[] {
    return [...this.containers].filter(([, c]) => c.running).map(([id]) => id);
  }

  async ping() {
    if (!this.engineUp) throw new DriverError("engine away", "engine_unreachable");
  }
  async start(config: TaskConfig) {
    if (!this.engineUp) throw new DriverError("cannot reach the Docker engine", "engine_unreachable");
    this.starts++;
    const containerId = `c${this.starts}`;
    this.containers.set(containerId, { taskId: config.taskId, running: true });
    const done = new Promise<ExitResult>((resolve) => this.exits.set(containerId, resolve));
    this.waits.set(containerId, done);
    const code = this.exitCodes.shift();
    if (code !== undefined) setTimeout(() => this.exit(containerId, code), 5);
    const held = this.held;
    if (held) {
      this.held = null;
      held.reach();
      await held.gate;
    }
    return { taskId: config.taskId, containerId, hostPorts: {}, startedAt: Date.now() };
  }
  wait(containerId: string) {
    return this.waits.get(containerId) as Promise<ExitResult>;
  }
  async stop(containerId: string) {
    this.exit(containerId, 143);
  }
  async destroy(containerId: string) {
    this.exit(containerId, 137);
    this.containers.delete(containerId);
  }
  async recover() {
    return [];
  }
  async list(): Promise<ContainerSummary[]> {
    return [...this.containers].map(([containerId, c]) => ({ containerId, taskId: c.taskId, running: c.running }));
  }
  async logs(): Promise<ReadableStream<Uint8Array>> {
    throw new Error("not used");
  }
  async exec() {
    return { exitCode: 0, output: "" };
  }
  async stats() {
    return { cpuSeconds: 0, memoryBytes: 0 };
  }

  private exit(containerId: string, code: number): void {
    const container = this.containers.get(containerId);
    if (container) container.running = false;
    this.exits.get(containerId)?.({ exitCode: code, oomKilled: false, description: `exit code ${code}`, finishedAt: Date.now() });
  }
}

function runner(driver: Driver, jobType: Assignment["jobType"], attempts: number, delayMs = 1) {
  const reports: TaskReport[] = [];
  const assignment: Assignment = { task: makeTask({ state: "scheduled" }), spec: makeTaskSpec({ restart: { attempts, intervalMs: 60_000, delayMs, mode: "fail" } }), jobType };
  const r = new TaskRunner(assignment, { driver, nodeId: "n1", report: (_id, report) => reports.push(report), log: createLogger("test", "error"), stopTimeoutMs: 10 });
  return { r, reports, states: () => reports.map((x) => x.state) };
}

describe("TaskRunner", () => {
  test("a batch task that exits 0 completes", async () => {
    const { r, reports, states } = runner(new ScriptedDriver([0]), "batch", 2);
    r.start();
    await waitFor("completed", () => (reports.at(-1)?.state === "completed" ? true : undefined), 2_000, 5);
    expect(states()).toEqual(["running", "completed"]);
  });

  test("crashes are restarted up to the policy, restarting between attempts, then the task fails with the last exit", async () => {
    const driver = new ScriptedDriver([1, 2, 3]);
    const { r, reports, states } = runner(driver, "service", 2);
    r.start();
    await waitFor("failed", () => (reports.at(-1)?.state === "failed" ? true : undefined), 2_000, 5);
    expect(driver.starts).toBe(3);
    expect(states()).toEqual(["running", "restarting", "running", "restarting", "running", "failed"]);
    const restarting = reports.find((x) => x.state === "restarting");
    expect(restarting?.exitCode).toBe(1);
    expect(restarting?.nextAttemptAt).toBeGreaterThan(0);
    expect(reports.at(-1)).toMatchObject({ state: "failed", exitCode: 3, restarts: 2 });
    expect(reports.at(-1)?.message).toContain("exit code 3; restart attempts exhausted");
  });

  test("an unreachable engine is waited out without spending restart attempts, and the task says so once", async () => {
    const driver = new ScriptedDriver();
    driver.engineUp = false;
    const { r, reports, states } = runner(driver, "service", 0);
    r.start();
    await Bun.sleep(600);
    expect(states()).toEqual(["restarting"]);
    expect(reports[0]?.nextAttemptAt).toBeNull();
    expect(reports[0]?.message).toContain("waiting for the container engine");
    driver.engineUp = true;
    await waitFor("running once the engine is back", () => (reports.at(-1)?.state === "running" ? true : undefined), 6_000, 20);
    expect(reports.at(-1)?.restarts).toBe(0);
    await r.stop("test over");
    expect(reports.at(-1)?.state).toBe("stopped");
  });

  test("a missing image fails at once", async () => {
    const driver = new ScriptedDriver();
    driver.start = async () => {
      throw new DriverError('image "x" not found', "image_not_found");
    };
    const { r, reports } = runner(driver, "service", 5);
    r.start();
    await waitFor("failed", () => (reports.at(-1)?.state === "failed" ? true : undefined), 2_000, 5);
    expect(reports).toEqual([{ restarts: 0, state: "failed", message: 'image "x" not found' }]);
  });

  test("a stop that arrives while the start is in flight wins: the container is removed once it exists, never reported running", async () => {
    const driver = new ScriptedDriver();
    const { r, states } = runner(driver, "service", 2);
    const start = driver.holdNextStart();
    r.start();
    await start.reached;
    expect(driver.runningContainers()).toEqual(["c1"]);
    const stopped = r.stop("scaled down to 0");
    start.release();
    await stopped;
    expect(driver.containers.size).toBe(0);
    expect(states()).toEqual(["stopped"]);
    expect(r.live).toBe(false);
  });

  test("a stop during the delay between attempts removes the exited container and ends the loop", async () => {
    const driver = new ScriptedDriver([1]);
    const { r, states } = runner(driver, "service", 3, 60_000);
    r.start();
    await waitFor("restarting", () => (states().at(-1) === "restarting" ? true : undefined), 2_000, 5);
    await r.stop("job stopped");
    expect(driver.containers.size).toBe(0);
    expect(driver.starts).toBe(1);
    expect(states()).toEqual(["running", "restarting", "stopped"]);
  });

  test("restart on request: refused while starting or between attempts, in place while running", async () => {
    const driver = new ScriptedDriver();
    const { r, reports, states } = runner(driver, "service", 2);
    const start = driver.holdNextStart();
    r.start();
    await start.reached;
    expect(r.restart()).rejects.toBeInstanceOf(ConflictError);
    start.release();
    await waitFor("running", () => (states().at(-1) === "running" ? true : undefined), 2_000, 5);
    await r.restart();
    await waitFor("running again", () => (states().length === 3 ? true : undefined), 2_000, 5);
    expect(states()).toEqual(["running", "restarting", "running"]);
    expect(reports.at(-1)?.restarts).toBe(1);
    expect(driver.runningContainers()).toEqual(["c2"]);
    await r.stop("test over");
    expect(r.restart()).rejects.toThrow(/stopping|finished/);
  });

  test("a container the engine no longer lists is noticed and restarted under the policy", async () => {
    const driver = new ScriptedDriver();
    const { r, states } = runner(driver, "service", 2);
    r.start();
    await waitFor("running", () => (states().at(-1) === "running" ? true : undefined), 2_000, 5);
    // A listing taken before the container existed says nothing.
    r.noticeListing(undefined, 0);
    await Bun.sleep(20);
    expect(states()).toEqual(["running"]);
    r.noticeListing(undefined, Date.now() + 1);
    await waitFor("running again", () => (states().length === 3 ? true : undefined), 2_000, 5);
    expect(states()).toEqual(["running", "restarting", "running"]);
    await r.stop("test over");
  });

  test("a stop with a shutdown delay keeps the container running that long; a stop without one cuts the delay short", async () => {
    const driver = new ScriptedDriver();
    const { r, states } = runner(driver, "service", 2);
    r.start();
    await waitFor("running", () => (states().at(-1) === "running" ? true : undefined), 2_000, 5);
    const drained = r.stop("replaced by job version 2", true, 150);
    await Bun.sleep(80);
    expect(driver.runningContainers()).toEqual(["c1"]);
    expect(r.live).toBe(true);
    await drained;
    expect(driver.containers.size).toBe(0);
    expect(states()).toEqual(["running", "stopped"]);

    const second = runner(driver, "service", 2);
    second.r.start();
    await waitFor("running", () => (second.states().at(-1) === "running" ? true : undefined), 2_000, 5);
    const slow = second.r.stop("draining", true, 60_000);
    const started = performance.now();
    await second.r.stop("worker shutting down");
    await slow;
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(second.states()).toEqual(["running", "stopped"]);
  });
});
