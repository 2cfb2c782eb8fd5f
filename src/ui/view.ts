import type { UsageSample } from "../manager/control-plane.ts";

/** What every page renders against besides the cluster's state: one clock reading and where the reader is. */
export interface View {
  now: number;
  /** The host name the reader used to reach the manager; host ports are linked on it. */
  host: string;
  /** A node's recent usage, for its charts. */
  usage: (nodeId: string) => readonly UsageSample[];
  /** Where the list on this page starts (`?next=`), from the page before. */
  next?: string;
}

/** Rows one dashboard list shows before it links to the next page. */
export const PAGE_SIZE = 100;

/** The dashboard's own addresses, in one place so links and routes agree. */
export const paths = {
  overview: "/ui",
  nodes: "/ui/nodes",
  jobs: "/ui/jobs",
  api: "/ui/api",
  node: (id: string) => `/ui/nodes/${encodeURIComponent(id)}`,
  job: (name: string) => `/ui/jobs/${encodeURIComponent(name)}`,
  task: (id: string) => `/ui/tasks/${encodeURIComponent(id)}`,
};
