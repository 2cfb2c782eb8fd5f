import { TASK_STATES } from "../model/task-state.ts";
import type { ManagerContext } from "./context.ts";
import type { JobEntry } from "./cluster-state.ts";

/** Prometheus text: the state in memory now (jobs, tasks, nodes by status), plus what was counted as it happened. */
export function renderMetrics({ state, metrics }: ManagerContext): string {
  const jobs = { running: 0, stopped: 0 };
  for (const name of state.jobNames()) jobs[(state.job(name) as JobEntry).job.status]++;
  const nodes = { ready: 0, draining: 0, down: 0 };
  for (const node of state.nodeList()) nodes[node.status]++;
  metrics.gauge("cube_jobs", "Jobs by status.", Object.entries(jobs).map(([status, n]) => [{ status }, n]));
  metrics.gauge("cube_tasks", "Tasks by state.", TASK_STATES.map((s) => [{ state: s }, state.tasks.countInState(s)]));
  metrics.gauge("cube_nodes", "Nodes by status.", Object.entries(nodes).map(([status, n]) => [{ status }, n]));
  return metrics.render();
}
