import type { ClusterState } from "../../src/manager/cluster-state.ts";
import { TASK_STATES } from "../../src/model/task-state.ts";

const sorted = <T>(items: Iterable<T>) => [...items].sort();

/**
 * Everything the in-memory state answers from, as plain data: jobs with their versions, every task,
 * the indexes (by job in list order, by node, by state, blocked jobs, rollouts under way), the nodes'
 * durable fields and the scheduler's allocations per node. Two states that describe the same are the
 * same to every reader. Heartbeat fields are left out: they live in memory only, by design.
 */
export function describeState(state: ClusterState) {
  const jobNames = [...state.jobNames()];
  const nodeIds = new Set([...state.nodeList().map((n) => n.id), ...[...state.tasks.all()].flatMap((t) => (t.nodeId ? [t.nodeId] : []))]);
  return {
    jobs: jobNames.map((name) => {
      const { job, versions } = state.job(name) as NonNullable<ReturnType<ClusterState["job"]>>;
      return { job, versions: [...versions.values()].sort((a, b) => a.version - b.version), outdated: state.tasks.hasOutdated(name, job.version) };
    }),
    systemJobs: sorted(state.systemJobNames()),
    tasks: [...state.tasks.all()].sort((a, b) => (a.id < b.id ? -1 : 1)),
    byJob: Object.fromEntries(jobNames.map((name) => [name, state.tasks.ofJob(name).map((t) => t.id)])),
    byNode: Object.fromEntries(sorted(nodeIds).map((id) => [id, { all: sorted(state.tasks.onNode(id).map((t) => t.id)), active: sorted(state.tasks.activeOn(id).map((t) => t.id)) }])),
    byState: Object.fromEntries(TASK_STATES.map((s) => [s, state.tasks.countInState(s)])),
    blocked: sorted(state.tasks.blockedJobs()),
    nodes: state.nodeList().map(({ stats: _stats, lastHeartbeat: _heartbeat, ...durable }) => durable),
    allocations: state.cluster.usages.map((u) => ({
      node: u.node.id,
      allocated: u.allocated,
      taskCount: u.taskCount,
      ports: sorted(u.ports),
      groups: [...u.groups].sort(([a], [b]) => (a < b ? -1 : 1)),
    })),
  };
}
