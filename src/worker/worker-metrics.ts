import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ContainerStats, Driver } from "../driver/driver.ts";
import { LATENCY_BUCKETS } from "../lib/metrics.ts";

/** A task runner as the metrics see it. */
export interface RunnerInfo {
  taskId: string;
  name: string;
  containerId: string | null;
  finished: boolean;
}

export interface WorkerMetricsSource {
  tasks(): RunnerInfo[];
  driver: Pick<Driver, "stats">;
}

/** How long one reading of the containers' stats serves scrapes. */
const READING_TTL_MS = 1_000;

/** The cpu and memory of every running task's container (a container that went away meanwhile is left out). */
async function readStats(source: WorkerMetricsSource): Promise<{ t: RunnerInfo; stats: ContainerStats }[]> {
  const running = source.tasks().filter((t) => t.containerId && !t.finished);
  const all = await Promise.all(running.map(async (t) => ({ t, stats: await source.driver.stats(t.containerId as string).catch(() => null) })));
  return all.filter((r): r is { t: RunnerInfo; stats: ContainerStats } => r.stats !== null);
}

/**
 * A worker's metrics, on a registry of its own (`cube dev` runs several workers in one process):
 * container starts timed as they happen, and the node's tasks with their containers' cpu and memory,
 * read from the engine at each scrape.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly starts = new Histogram({
    name: "cube_worker_container_start_seconds",
    help: "Time to start a task's container: create (pulling its image when missing) and start.",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly loaded = new Counter({ name: "cube_worker_image_load_bytes_total", help: "Bytes of images loaded into this node's engine (cube image push).", registers: [this.registry] });

  constructor(source: WorkerMetricsSource) {
    new Gauge({
      name: "cube_worker_tasks",
      help: "Tasks on this node by whether they still run.",
      labelNames: ["state"],
      registers: [this.registry],
      collect() {
        const tasks = source.tasks();
        this.set({ state: "active" }, tasks.filter((t) => !t.finished).length);
        this.set({ state: "finished" }, tasks.filter((t) => t.finished).length);
      },
    });
    // One reading of the engine serves both families below (a scrape asks for them together).
    let cached: { at: number; readings: Promise<{ t: RunnerInfo; stats: ContainerStats }[]> } | null = null;
    const read = () => {
      const now = Date.now();
      if (!cached || now - cached.at > READING_TTL_MS) cached = { at: now, readings: readStats(source) };
      return cached.readings;
    };
    new Counter({
      name: "cube_task_cpu_seconds_total",
      help: "Cpu time used by each task's container.",
      labelNames: ["task", "name"],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { t, stats } of await read()) this.inc({ task: t.taskId, name: t.name }, stats.cpuSeconds);
      },
    });
    new Gauge({
      name: "cube_task_memory_bytes",
      help: "Memory used by each task's container.",
      labelNames: ["task", "name"],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { t, stats } of await read()) this.set({ task: t.taskId, name: t.name }, stats.memoryBytes);
      },
    });
  }

  containerStarted(seconds: number): void {
    this.starts.observe(seconds);
  }

  imageLoaded(bytes: number): void {
    this.loaded.inc(bytes);
  }
}
