import { Gauge, Registry } from "prom-client";
import { BUILD_DATE, COMMIT, VERSION } from "./version.ts";

/** What `/metrics` answers with: Prometheus' text exposition format. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Buckets (seconds) for request and start latencies: 1 ms to 1 min. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Buckets (seconds) for work done in memory, such as placing a task group: 10 µs to 1 s. */
export const COMPUTE_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

let processRegistry: Registry | undefined;

const MISNAMED_DEFAULTS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

/**
 * The process's own metrics: prom-client's default collectors (resident memory, cpu, open files,
 * event-loop lag, heap) and `cube_build_info`. One registry per process, not per manager or worker,
 * since they describe the process (`cube dev` runs a manager and several workers in one). Made at
 * the first scrape, so code that never serves /metrics (unit tests) starts no event-loop monitor.
 */
async function processMetrics(): Promise<Registry> {
  if (processRegistry) return processRegistry;
  const registry = new Registry();
  const { collectDefaultMetrics } = await import("prom-client");
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters (promtool rejects them), and always 0 under Bun, which has no libuv handles to count.
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  const build = new Gauge({ name: "cube_build_info", help: "Always 1: the version, commit and build date of this binary, as labels.", labelNames: ["version", "commit", "date"], registers: [registry] });
  build.set({ version: VERSION, commit: COMMIT, date: BUILD_DATE }, 1);
  processRegistry = registry;
  return registry;
}

/**
 * One `/metrics` page: the process's metrics, then those of the manager or worker that serves it
 * (each has a registry of its own).
 * @example c.text(await renderMetrics(managerMetrics.registry), 200, { "content-type": METRICS_CONTENT_TYPE })
 */
export async function renderMetrics(own: Registry): Promise<string> {
  const shared = await processMetrics();
  return `${await shared.metrics()}\n${await own.metrics()}`;
}
