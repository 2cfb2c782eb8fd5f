import type { Store } from "../store/index.ts";
import { applyChanges } from "./apply-changes.ts";
import type { ChangeSet, PutJobResult } from "./change-set.ts";
import type { ClusterState } from "./cluster-state.ts";
import type { EvalQueue } from "./eval-queue.ts";
import type { EventBus } from "./event-bus.ts";
import type { AssignmentWatch } from "./assignment-watch.ts";
import { writeThrough } from "./write-through.ts";

export interface CommitDeps {
  store: Store;
  state: ClusterState;
  bus: EventBus;
  watch: AssignmentWatch;
  queue: EvalQueue;
}

/**
 * The one way the control plane changes anything: the store first, in one transaction (if it throws,
 * memory is untouched), then the in-memory state, then the events, the workers' wake-ups and the
 * jobs to evaluate. A job is marked when it changed; blocked jobs when capacity was freed; system
 * jobs, blocked jobs and the jobs on a node when a node joined or changed.
 * @example commit(changes) // → the version each job write kept
 */
export function committer({ store, state, bus, watch, queue }: CommitDeps) {
  return function commit(changes: ChangeSet, options: { evaluating?: string } = {}): PutJobResult[] {
    if (changes.empty) return [];
    const results = writeThrough(store, changes);
    const effects = applyChanges(state, changes, results, options.evaluating);
    for (const event of effects.events) bus.publish(event);
    for (const nodeId of effects.wake) watch.bump(nodeId);
    const marks = effects.jobs;
    if (effects.capacityFreed || effects.nodes.size > 0) {
      for (const job of state.tasks.blockedJobs()) marks.add(job);
      for (const job of state.unplacedSystemJobs) marks.add(job);
    }
    if (effects.nodes.size > 0) for (const job of state.systemJobNames()) marks.add(job);
    for (const nodeId of effects.nodes) for (const job of state.tasks.jobsOn(nodeId)) marks.add(job);
    for (const job of marks) if (state.job(job)) queue.mark(job);
    return results;
  };
}

export type Commit = ReturnType<typeof committer>;
