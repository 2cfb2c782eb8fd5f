import type { IngressView, ServiceEndpoint, ServiceView } from "../model/api-types.ts";
import type { Job, JobSpec, TaskSpec } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import { type Task, taskName } from "../model/task.ts";

/** What one job publishes: its services and ingress routes, with their endpoints. */
export interface JobServing {
  services: ServiceView[];
  ingress: IngressView[];
}

export interface JobServingInput {
  job: Job;
  /** Every task of the job. */
  tasks: Iterable<Task>;
  /** The spec of a version of the job, as stored. */
  specOf: (version: number) => JobSpec | undefined;
  node: (id: string) => Node | undefined;
}

/** The host of a node's address (`http://10.0.0.5:7601` → `10.0.0.5`), without an IPv6 literal's brackets. */
export function nodeHost(address: string): string {
  return new URL(address).hostname.replace(/^\[(.*)\]$/, "$1");
}

/** Whether any version of a job publishes a service or an ingress route (most do not, and are skipped). */
export function publishes(specs: Iterable<JobSpec>): boolean {
  for (const spec of specs) if (spec.tasks.some((t) => t.services?.length || t.ingress?.length)) return true;
  return false;
}

/**
 * The names a job claims across the cluster while it runs: its service names and ingress hosts.
 * @example claimsOf(spec) // ["service web", "ingress host shop.example.com"]
 */
export function claimsOf(spec: JobSpec): string[] {
  const claims = new Set<string>();
  for (const t of spec.tasks) {
    for (const s of t.services ?? []) claims.add(`service ${s.name}`);
    for (const r of t.ingress ?? []) claims.add(`ingress host ${r.host}`);
  }
  return [...claims];
}

/**
 * A job's services and ingress routes from the state of its tasks: every task that is running, on a
 * node that is not down, with its named port bound, is an endpoint; it is `healthy` when its check
 * passes or it has none, and `stopping` once asked to stop (a last resort while it serves out its
 * shutdown delay). A running job lists what its
 * current version declares even before any endpoint exists; tasks of older versions still running
 * (a rolling update) add theirs. Sorted, so two results compare equal when nothing changed.
 */
export function jobServing({ job, tasks, specOf, node }: JobServingInput): JobServing {
  const name = job.spec.name;
  const services = new Map<string, ServiceView>();
  const routes = new Map<string, IngressView>();
  const service = (s: { name: string; tags: string[] }) => services.get(s.name) ?? set(services, s.name, { name: s.name, job: name, tags: s.tags, endpoints: [] });
  const route = (r: { host: string; path: string }) => routes.get(`${r.host}${r.path}`) ?? set(routes, `${r.host}${r.path}`, { host: r.host, path: r.path, job: name, endpoints: [] });
  if (job.status === "running") {
    for (const group of job.spec.tasks) {
      group.services?.forEach(service);
      group.ingress?.forEach(route);
    }
  }
  for (const task of tasks) {
    if (task.state !== "running" || task.nodeId === null) continue;
    const where = node(task.nodeId);
    const group = specOf(task.jobVersion)?.tasks.find((g) => g.name === task.group);
    if (!where || where.status === "down" || !group) continue;
    for (const s of group.services ?? []) {
      const endpoint = endpointOf(task, where, group, s.port);
      if (endpoint) service(s).endpoints.push(endpoint);
    }
    for (const r of group.ingress ?? []) {
      const endpoint = endpointOf(task, where, group, r.port);
      if (endpoint) route(r).endpoints.push(endpoint);
    }
  }
  const byName = (a: ServiceEndpoint, b: ServiceEndpoint) => compare(a.name, b.name) || compare(a.task, b.task);
  for (const s of services.values()) s.endpoints.sort(byName);
  for (const r of routes.values()) r.endpoints.sort(byName);
  return {
    services: [...services.values()].sort((a, b) => compare(a.name, b.name)),
    ingress: [...routes.values()].sort((a, b) => compare(a.host, b.host) || compare(a.path, b.path)),
  };
}

function endpointOf(task: Task, node: Node, group: TaskSpec, portName: string): ServiceEndpoint | null {
  const port = task.hostPorts[portName];
  const declared = group.ports.find((p) => p.name === portName);
  if (port === undefined || !declared) return null;
  return {
    task: task.id,
    name: taskName(task),
    node: node.name,
    nodeId: node.id,
    address: nodeHost(node.address),
    port,
    containerPort: declared.container,
    healthy: group.health === undefined || task.health === "healthy",
    stopping: task.desired === "stopped",
  };
}

/** One line for the events stream: how many endpoints, how many get traffic, and where. */
export function describeEndpoints(what: string, endpoints: readonly ServiceEndpoint[]): string {
  const healthy = endpoints.filter((e) => e.healthy && !e.stopping);
  const where = healthy.map((e) => `${e.name} on ${e.node}`).join(", ");
  return `${what}: ${healthy.length} of ${endpoints.length} endpoints healthy${where ? ` (${where})` : ""}`;
}

function set<K, V>(map: Map<K, V>, key: K, value: V): V {
  map.set(key, value);
  return value;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
