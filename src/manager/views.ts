import type { JobView, NodeView, TaskView } from "../model/api-types.ts";
import type { Job } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import { type Task, taskName } from "../model/task.ts";
import { isGone, type TaskState } from "../model/task-state.ts";
import type { NodeUsage } from "../scheduler/plugin.ts";

/** What the API shows of a task: the task with its name and its node's name. */
export function taskView(task: Task, nodeName: (id: string) => string | undefined): TaskView {
  return { ...task, name: taskName(task), nodeName: task.nodeId ? (nodeName(task.nodeId) ?? null) : null };
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
  const allocated = usage ? { ...usage.allocated } : { cpu: 0, memory: 0, disk: 0 };
  allocated.cpu = Math.round(allocated.cpu * 1000) / 1000;
  return { ...node, allocated, taskCount: usage?.taskCount ?? 0 };
}
