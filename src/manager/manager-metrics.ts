import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { COMPUTE_BUCKETS, LATENCY_BUCKETS } from "../lib/metrics.ts";
import type { Task } from "../model/task.ts";
import { TASK_STATES } from "../model/task-state.ts";
import type { ClusterState, JobEntry } from "./cluster-state.ts";

/** Labels of an API request's latency: the route pattern (never the raw path, so ids do not explode the label set). */
export interface RequestLabels {
  method: string;
  route: string;
  status: string;
}

/**
 * The manager's metrics, on a registry of its own: what happened, counted and timed as it happens,
 * and the state in memory (jobs, tasks, nodes), read at each scrape.
 */
export class ManagerMetrics {
  readonly registry = new Registry();
  private readonly requests = new Histogram({ name: "cube_api_request_duration_seconds", help: "API requests by method, route and status.", labelNames: ["method", "route", "status"], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly evaluations = new Counter({ name: "cube_evaluations_total", help: "Jobs evaluated (each after a change that concerns it).", registers: [this.registry] });
  private readonly placements = new Counter({ name: "cube_placements_total", help: "Tasks placed on a node.", registers: [this.registry] });
  private readonly scheduling = new Histogram({ name: "cube_scheduling_duration_seconds", help: "Time the scheduler took to place one task group's pending tasks.", buckets: COMPUTE_BUCKETS, registers: [this.registry] });
  private readonly placementWait = new Histogram({
    name: "cube_task_scheduling_latency_seconds",
    help: "From a task's creation until it was placed on a node (0 when the evaluation that made it placed it; longer when it waited for room).",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly startLatency = new Histogram({
    name: "cube_task_start_latency_seconds",
    help: "From a task's creation until its worker first reported it running (placement, the worker's wake-up, image pull, container start).",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  constructor(state: ClusterState) {
    new Gauge({
      name: "cube_jobs",
      help: "Jobs by status.",
      labelNames: ["status"],
      registers: [this.registry],
      collect() {
        const jobs = { running: 0, stopped: 0 };
        for (const name of state.jobNames()) jobs[(state.job(name) as JobEntry).job.status]++;
        for (const [status, n] of Object.entries(jobs)) this.set({ status }, n);
      },
    });
    new Gauge({
      name: "cube_tasks",
      help: "Tasks by state.",
      labelNames: ["state"],
      registers: [this.registry],
      collect() {
        for (const s of TASK_STATES) this.set({ state: s }, state.tasks.countInState(s));
      },
    });
    new Gauge({
      name: "cube_nodes",
      help: "Nodes by status.",
      labelNames: ["status"],
      registers: [this.registry],
      collect() {
        const nodes = { ready: 0, draining: 0, down: 0 };
        for (const node of state.nodeList()) nodes[node.status]++;
        for (const [status, n] of Object.entries(nodes)) this.set({ status }, n);
      },
    });
  }

  request(labels: RequestLabels, seconds: number): void {
    this.requests.observe({ ...labels }, seconds);
  }

  evaluated(): void {
    this.evaluations.inc();
  }

  /** One task group placed: how long the scheduler took, and how long each placed task had waited since it was made. */
  placed(seconds: number, tasks: readonly Task[], now: number): void {
    this.scheduling.observe(seconds);
    this.placements.inc(tasks.length);
    for (const task of tasks) this.placementWait.observe(Math.max(0, now - task.createdAt) / 1000);
  }

  /** A task's first report of running (not a restart's). */
  started(task: Task, now: number): void {
    this.startLatency.observe(Math.max(0, now - task.createdAt) / 1000);
  }
}
