import type { Dependency, Job, TaskSpec } from "../model/job.ts";
import type { Task } from "../model/task.ts";
import { isGone } from "../model/task-state.ts";

const live = (t: Task) => !isGone(t.state) && t.desired === "running";

const WORDS: Record<Dependency["condition"], string> = { started: "to start", healthy: "to be healthy", completed: "to complete successfully" };

/** How many of the dependency's tasks meet its condition, of how many it wants. */
function progress(job: Job, dependency: Dependency, tasks: readonly Task[]): { met: number; wanted: number } {
  const group = job.spec.tasks.find((g) => g.name === dependency.task) as TaskSpec;
  const mine = tasks.filter((t) => t.group === group.name);
  const running = mine.filter((t) => live(t) && t.state === "running");
  const wanted = job.spec.type === "system" ? Math.max(1, mine.filter(live).length) : group.count;
  switch (dependency.condition) {
    case "started":
      return { met: running.length, wanted };
    case "healthy":
      return { met: running.filter((t) => t.health === "healthy").length, wanted };
    case "completed":
      return { met: new Set(mine.filter((t) => t.jobVersion === job.version && t.state === "completed").map((t) => t.index)).size, wanted };
  }
}

/**
 * Why a task group must wait before its tasks are placed, or null when it may go: Compose's
 * depends_on orders the first start only, so a group holds back while none of its live tasks got past
 * pending (its first rollout, or once all of them were lost) and a group it depends on has not
 * reached the condition with all its replicas. A group that runs is never held back: updates and
 * restarts do not wait.
 * @example dependencyHold(job, api, tasks) // "waiting for db to be healthy (0 of 1)"
 */
export function dependencyHold(job: Job, group: TaskSpec, tasks: readonly Task[]): string | null {
  if (!group.dependsOn?.length) return null;
  if (tasks.some((t) => t.group === group.name && live(t) && t.state !== "pending")) return null;
  const waits: string[] = [];
  for (const dependency of group.dependsOn) {
    const { met, wanted } = progress(job, dependency, tasks);
    if (met < wanted) waits.push(`${dependency.task} ${WORDS[dependency.condition]} (${met} of ${wanted})`);
  }
  return waits.length > 0 ? `waiting for ${waits.join(" and ")}` : null;
}
