import type { JobView, NodeView, TaskView } from "../model/api-types.ts";
import type { Job } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import { type Task, taskName } from "../model/task.ts";
import { isGone, type TaskState } from "../model/task-state.ts";
import type { NodeUsage } from "../scheduler/plugin.ts";

/**
 * Views made from an entity are kept with it while they stay the same, so a list asked for again and
 * again builds, and the API serializes (json-text.ts), only what changed since. A task is never
 * changed once made (a change makes a new object); a node is, in place, by each heartbeat (its stats
 * and time), which the kept view is checked against. Frozen: they are shared.
 */
const taskViews = new WeakMap<Task, TaskView>();
const nodeViews = new WeakMap<Node, NodeView>();

/** What the API shows of a task: the task with its name and its node's name. */
export function taskView(task: Task, nodeName: (id: string) => string | undefined): TaskView {
  const node = task.nodeId ? (nodeName(task.nodeId) ?? null) : null;
  const kept = taskViews.get(task);
  if (kept?.nodeName === node) return kept;
  const view: TaskView = Object.freeze({ ...task, name: taskName(task), nodeName: node });
  taskViews.set(task, view);
  return view;
}

/**
 * A job with the count of its tasks by state (those of its current version, and live ones of older
 * versions) and how many it wants (a system job: the live ones it placed).
 */
export function jobView(job: Job, tasks: readonly Task[], rolloutFailure: string | null): JobView {
  const byState: Partial<Record<TaskState, number>> = {};
  let systemDesired = 0;
  for (const t of tasks) {
    if (t.jobVersion === job.version || !isGone(t.state)) byState[t.state] = (byState[t.state] ?? 0) + 1;
    if (!isGone(t.state) && t.desired === "running") systemDesired++;
  }
  // A periodic job runs nothing itself: its runs are jobs of their own.
  const desired = job.status === "stopped" || job.spec.schedule !== undefined ? 0 : job.spec.type === "system" ? systemDesired : job.spec.tasks.reduce((sum, g) => sum + g.count, 0);
  return { ...job, name: job.spec.name, type: job.spec.type, summary: { desired, byState }, rolloutFailure };
}

/** A node with what its live tasks hold, as the scheduler counts it. */
export function nodeView(node: Node, usage: NodeUsage | undefined): NodeView {
  const cpu = Math.round((usage?.allocated.cpu ?? 0) * 1000) / 1000;
  const memory = usage?.allocated.memory ?? 0;
  const disk = usage?.allocated.disk ?? 0;
  const taskCount = usage?.taskCount ?? 0;
  const kept = nodeViews.get(node);
  if (
    kept &&
    kept.stats === node.stats &&
    kept.lastHeartbeat === node.lastHeartbeat &&
    kept.taskCount === taskCount &&
    kept.allocated.cpu === cpu &&
    kept.allocated.memory === memory &&
    kept.allocated.disk === disk
  ) {
    return kept;
  }
  const view: NodeView = Object.freeze({ ...node, allocated: Object.freeze({ cpu, memory, disk }), taskCount });
  nodeViews.set(node, view);
  return view;
}
