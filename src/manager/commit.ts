import type { Store } from "../store/index.ts";
import { applyChanges } from "./apply-changes.ts";
import type { ChangeSet, NewEvent, PutJobResult } from "./change-set.ts";
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
 *
 * `commit.together(fn)` makes every commit inside fn a savepoint of one store transaction (a commit
 * costs more than its writes; an evaluation pass or a group of reports pays it once). A commit that
 * fails inside is undone alone, as outside; its events wait for the whole to be durable. Should the
 * whole fail after commits inside were applied, memory is loaded from the store again, every job
 * evaluated and every worker woken.
 * @example commit(changes) // → the version each job write kept
 */
export function committer({ store, state, bus, watch, queue }: CommitDeps) {
  /** Events of the commits inside `together`, published once it is durable. */
  let deferred: NewEvent[] | null = null;

  function commit(changes: ChangeSet, options: { evaluating?: string } = {}): PutJobResult[] {
    if (changes.empty) return [];
    const results = writeThrough(store, changes);
    const effects = applyChanges(state, changes, results, options.evaluating);
    if (deferred) deferred.push(...effects.events);
    else for (const event of effects.events) bus.publish(event);
    // Woken workers read their assignments after this synchronous code: by then it is durable, or reloaded.
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
  }

  function together<T>(fn: () => T): T {
    if (deferred) return fn();
    deferred = [];
    let result: T;
    try {
      result = store.transaction(fn);
    } catch (err) {
      deferred = null;
      state.reload(store);
      for (const job of state.jobNames()) queue.mark(job);
      for (const node of state.nodeList()) watch.bump(node.id);
      throw err;
    }
    const events = deferred;
    deferred = null;
    for (const event of events) bus.publish(event);
    return result;
  }

  return Object.assign(commit, { together });
}

export type Commit = ReturnType<typeof committer>;
