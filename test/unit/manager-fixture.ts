import { createLogger } from "../../src/lib/logger.ts";
import { Manager, type ManagerOptions } from "../../src/manager/manager.ts";
import type { TaskReportItem, TaskReportResult } from "../../src/model/api-types.ts";
import type { JobSpec } from "../../src/model/job.ts";
import type { Task } from "../../src/model/task.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { makeJobSpec, makeTaskSpec } from "./fixtures.ts";

/**
 * A manager driven by hand, without HTTP: its own clock, nodes that join with the join token, and
 * workers' reports sent as a worker would. `evaluated` lists every job evaluation, in order.
 */
export class ManagerFixture {
  clock = 1_000_000;
  readonly evaluated: string[] = [];
  readonly manager: Manager;

  constructor(
    readonly store: Store = openStore(":memory:"),
    options: Partial<ManagerOptions> = {},
  ) {
    this.manager = new Manager({ store, log: createLogger("test", "error"), heartbeatTtlMs: 10_000, now: () => this.clock, onEvaluate: (job) => this.evaluated.push(job), ...options });
  }

  /** A node of 4 cores and `memory` MiB. */
  join(name: string, memory = 4096): string {
    return this.manager.joinNode({ role: "join" }, { name, address: "http://127.0.0.1:1", datacenter: "dc1", labels: {}, capacity: { cpu: 4, memory, disk: 1000 }, version: "test" }).node.id;
  }

  /** Submits a service job of `count` tasks of `memory` MiB each, and evaluates it. */
  submit(name: string, count = 1, memory = 256, overrides: Partial<JobSpec> = {}): void {
    this.manager.submitJob(makeJobSpec(name, [makeTaskSpec({ count, resources: { cpu: 0.1, memory, disk: 0 } })], overrides));
    this.manager.reconcileNow();
  }

  tasks(job: string): Task[] {
    return this.manager.getJob(job).tasks;
  }

  /** The job's live tasks (not gone), in list order. */
  live(job: string): Task[] {
    return this.tasks(job).filter((t) => !["completed", "failed", "stopped", "lost"].includes(t.state));
  }

  /** Reports from the task's own node, one batch. */
  report(task: Task, ...reports: Omit<TaskReportItem, "taskId">[]): Promise<TaskReportResult[]> {
    return this.manager.reportTasks(task.nodeId as string, reports.map((r) => ({ taskId: task.id, ...r })));
  }

  /** The evaluations since the last call. */
  takeEvaluated(): string[] {
    return this.evaluated.splice(0);
  }
}
