import type { Store } from "../store/index.ts";
import { isShared } from "../store/shared-store.ts";
import { applyChanges, type Effects } from "./apply-changes.ts";
import type { AssignmentWatch } from "./assignment-watch.ts";
import type { ChangeSet, NewEvent, PutJobResult } from "./change-set.ts";
import type { ClusterState } from "./cluster-state.ts";
import type { EvalQueue } from "./eval-queue.ts";
import type { EventBus } from "./event-bus.ts";
import { writeThrough } from "./write-through.ts";

export interface CommitDeps {
  store: Store;
  state: ClusterState;
  bus: EventBus;
  watch: AssignmentWatch;
  queue: EvalQueue;
}

/**
 * What a change means for the rest of the control plane, wherever it came from (this manager's
 * commits, or another manager's seen in a shared store): woken workers, and jobs marked for
 * evaluation — a job when it changed; blocked jobs when capacity was freed; system jobs, blocked jobs
 * and the jobs on a node when a node joined or changed.
 */
export function actOn(effects: Effects, { state, watch, queue }: Pick<CommitDeps, "state" | "watch" | "queue">): void {
  for (const nodeId of effects.wake) watch.bump(nodeId);
  const marks = effects.jobs;
  if (effects.capacityFreed || effects.nodes.size > 0) {
    for (const job of state.tasks.blockedJobs()) marks.add(job);
    for (const job of state.unplacedSystemJobs) marks.add(job);
  }
  if (effects.nodes.size > 0) for (const job of state.systemJobNames()) marks.add(job);
  for (const nodeId of effects.nodes) for (const job of state.tasks.jobsOn(nodeId)) marks.add(job);
  for (const job of marks) if (state.job(job)) queue.mark(job);
}

/**
 * The one way the control plane changes anything: the store first, in one transaction (if it throws,
 * memory is untouched), then the in-memory state, then the events, the workers' wake-ups and the
 * jobs to evaluate (actOn).
 *
 * SQLite: `commit.together(fn)` makes every commit inside fn a savepoint of one store transaction (a
 * commit costs more than its writes; an evaluation pass or a group of reports pays it once). A commit
 * that fails inside is undone alone, as outside; its events wait for the whole to be durable. Should
 * the whole fail after commits inside were applied, memory is loaded from the store again, every job
 * evaluated and every worker woken.
 *
 * A shared store (etcd) sends its transactions after this synchronous code, packing the commits of a
 * moment into few etcd transactions by itself: `together` is just fn there. The events of a commit
 * are stored with it (the other managers publish them) and published here once it is durable; should
 * the store refuse it, the store reloads and the manager with it (see Manager).
 * @example commit(changes) // → the version each job write kept
 */
export function committer(deps: CommitDeps) {
  const { store, state, bus } = deps;
  const shared = isShared(store) ? store : null;
  /** Events of the commits inside `together`, published once it is durable. */
  let deferred: NewEvent[] | null = null;

  function commit(changes: ChangeSet, options: { evaluating?: string } = {}): PutJobResult[] {
    if (changes.empty) return [];
    let results: PutJobResult[] = [];
    let effects: Effects | undefined;
    if (shared) {
      shared.transaction(() => {
        results = writeThrough(store, changes);
        effects = applyChanges(state, changes, results, options.evaluating);
        shared.shareEvents(effects.events);
      });
      const events = (effects as Effects).events;
      if (events.length > 0) void shared.durable().then(() => publish(events), () => undefined);
    } else {
      results = writeThrough(store, changes);
      effects = applyChanges(state, changes, results, options.evaluating);
      if (deferred) deferred.push(...effects.events);
      else publish(effects.events);
    }
    // Woken workers read their assignments once what they read is durable (or reloaded).
    actOn(effects as Effects, deps);
    return results;
  }

  function publish(events: readonly NewEvent[]): void {
    for (const event of events) bus.publish(event);
  }

  function together<T>(fn: () => T): T {
    if (deferred || shared) return fn();
    deferred = [];
    let result: T;
    try {
      result = store.transaction(fn);
    } catch (err) {
      deferred = null;
      reloadAll(deps);
      throw err;
    }
    const events = deferred;
    deferred = null;
    publish(events);
    return result;
  }

  return Object.assign(commit, { together });
}

/** Memory got ahead of the store (a write it refused): everything again from the store, every job evaluated and every worker woken. */
export function reloadAll({ store, state, watch, queue }: CommitDeps): void {
  state.reload(store);
  for (const job of state.jobNames()) queue.mark(job);
  for (const node of state.nodeList()) watch.bump(node.id);
}

export type Commit = ReturnType<typeof committer>;
