import type { TaskSpec } from "../model/job.ts";
import type { Task } from "../model/task.ts";

/**
 * Whether a task counts as healthy for a rollout: running, its check passing (when it has one),
 * and running for the update's min_healthy_time.
 */
export function isHealthy(task: Task, spec: TaskSpec, now: number): boolean {
  if (task.state !== "running" || task.startedAt === null) return false;
  if (spec.health && task.health !== "healthy") return false;
  return now - task.startedAt >= (spec.update?.minHealthyTimeMs ?? 0);
}

export interface RolloutPlan {
  /** Outdated tasks to replace now (stop the old one, create its slot's new one). */
  replace: Task[];
  /** Why the rollout failed, when it did: no more replacements, and maybe a revert. */
  failure: string | null;
  /** When a pending replacement becomes healthy by time alone, or its deadline passes. */
  wakeAt: number | null;
}

/**
 * One step of a rolling update of a task group: at most max_parallel new tasks may be unhealthy at
 * once, so an outdated task only goes when there is room; a new task that fails, or is not healthy
 * by the deadline, fails the rollout.
 * @param current live tasks of the group already on the current version
 * @param outdated live tasks of the group still on an older, different spec
 * @param history every task of the group on the current version (to see failures)
 */
export function planRollout(spec: TaskSpec, current: Task[], outdated: Task[], history: Task[], now: number): RolloutPlan {
  const update = spec.update;
  if (!update) return { replace: outdated, failure: null, wakeAt: null };
  let wakeAt: number | null = null;
  const wake = (at: number) => (wakeAt = Math.min(wakeAt ?? at, at));
  const failed = history.find((t) => t.state === "failed");
  if (outdated.length > 0 && failed) return { replace: [], failure: `task ${spec.name}.${failed.index} of the new version failed: ${failed.message}`, wakeAt: null };
  const unhealthy = current.filter((t) => !isHealthy(t, spec, now));
  for (const t of unhealthy) {
    if (outdated.length > 0 && now - t.createdAt > update.healthyDeadlineMs) {
      return { replace: [], failure: `task ${spec.name}.${t.index} of the new version was not healthy within ${Math.round(update.healthyDeadlineMs / 1000)}s`, wakeAt: null };
    }
    if (t.startedAt !== null) wake(t.startedAt + update.minHealthyTimeMs);
    wake(t.createdAt + update.healthyDeadlineMs + 1);
  }
  const room = Math.max(0, update.maxParallel - unhealthy.length);
  const replace = [...outdated].sort((a, b) => a.index - b.index).slice(0, room);
  return { replace, failure: null, wakeAt };
}
