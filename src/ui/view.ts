import type { UsageHistory } from "../manager/usage-history.ts";

/** What every page renders against besides the cluster's state: one clock reading and where the reader is. */
export interface View {
  now: number;
  /** The host name the reader used to reach the manager; host ports are linked on it. */
  host: string;
  history: UsageHistory;
}

/** The dashboard's own addresses, in one place so links and routes agree. */
export const paths = {
  overview: "/ui",
  nodes: "/ui/nodes",
  jobs: "/ui/jobs",
  node: (id: string) => `/ui/nodes/${encodeURIComponent(id)}`,
  job: (name: string) => `/ui/jobs/${encodeURIComponent(name)}`,
  task: (id: string) => `/ui/tasks/${encodeURIComponent(id)}`,
};
