import { parseTaskName, type Task } from "../model/task.ts";
import { isGone } from "../model/task-state.ts";

/** Where a task reference is looked up: by full id, the tasks of a job, and by unique id prefix. */
export interface TaskLookup {
  byId(id: string): Task | undefined;
  ofJob(job: string): readonly Task[];
  /** Throws (the store's AmbiguousIdError, a 400) when several ids start with the prefix. */
  byPrefix(prefix: string): Task | undefined;
}

/**
 * The task a user means by `ref`: a full id, a task name `JOB.GROUP.INDEX` (the slot's live task —
 * the one meant to run, else one still stopping — or, when none is live, its newest), or a unique id
 * prefix. Undefined when nothing matches.
 * @example resolveTaskRef("web.http.0", lookup)?.id
 */
export function resolveTaskRef(ref: string, lookup: TaskLookup): Task | undefined {
  const exact = lookup.byId(ref);
  if (exact) return exact;
  const slot = parseTaskName(ref);
  if (slot) {
    const inSlot = lookup.ofJob(slot.job).filter((t) => t.group === slot.group && t.index === slot.index);
    const rank = (t: Task) => (isGone(t.state) ? 0 : t.desired === "running" ? 2 : 1);
    const chosen = inSlot.reduce<Task | undefined>((best, t) => (!best || rank(t) > rank(best) || (rank(t) === rank(best) && t.createdAt > best.createdAt) ? t : best), undefined);
    if (chosen) return chosen;
  }
  return lookup.byPrefix(ref);
}
