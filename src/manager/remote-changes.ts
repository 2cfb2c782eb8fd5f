import type { Task } from "../model/task.ts";
import type { MirrorChanges, SharedStore } from "../store/shared-store.ts";
import { type Effects, noEffects, taskEffects } from "./apply-changes.ts";
import type { ClusterState } from "./cluster-state.ts";

/**
 * Brings memory up to date with what other managers stored (a shared store's watch), and says what
 * it means, as a commit of this manager's would: the store already holds the new values, so each
 * changed entity is read from it. A heartbeat only moves the node's last heartbeat forward.
 */
export function applyRemote(state: ClusterState, store: SharedStore, changes: MirrorChanges): Effects {
  const effects = noEffects();
  const before = new Map<string, Task | undefined>();
  const remember = (id: string, old: Task | undefined) => {
    if (!before.has(id)) before.set(id, old);
  };
  const deleted = new Set<string>();
  for (const name of changes.jobs) {
    const job = store.getJob(name);
    if (job) {
      state.replaceJob(job, new Map(store.listJobVersions(name).map((v) => [v.version, v])));
      effects.jobs.add(name);
    } else if (state.job(name)) {
      for (const task of state.deleteJob(name)) remember(task.id, task);
      deleted.add(name);
    }
  }
  for (const id of changes.tasks) {
    const task = store.getTask(id);
    remember(id, task ? state.putTask(task) : state.deleteTask(id));
  }
  for (const id of changes.nodes) {
    const node = store.getNode(id);
    if (!node) continue;
    const known = state.node(id);
    const beat = known && known.lastHeartbeat > node.lastHeartbeat ? { lastHeartbeat: known.lastHeartbeat, stats: known.stats } : {};
    state.putNode({ ...node, ...beat });
    effects.nodes.add(id);
  }
  for (const id of changes.heartbeats) {
    const shared = store.getNode(id);
    const node = state.node(id);
    if (!shared || !node || shared.lastHeartbeat <= node.lastHeartbeat) continue;
    state.recordHeartbeat(node, shared.lastHeartbeat, shared.stats);
  }
  taskEffects(state, before, effects);
  for (const job of deleted) effects.jobs.delete(job);
  return effects;
}
