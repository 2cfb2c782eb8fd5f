import type { Task } from "../model/task.ts";
import type { Store } from "../store/index.ts";
import type { ChangeSet, PutJobResult } from "./change-set.ts";

/**
 * Writes a change set to the store in one transaction, in order, and returns what each job write
 * kept (its version). This is the commit step a replicated store replaces: a leader's writes there
 * become one transaction fenced by its lease. It throws when the store refuses, having written nothing.
 */
export function writeThrough(store: Store, changes: ChangeSet): PutJobResult[] {
  return store.transaction(() => {
    const jobs: PutJobResult[] = [];
    for (const change of changes.changes) {
      switch (change.kind) {
        case "putJob":
          jobs.push(store.putJob(change.spec, changes.now, { autoRevert: change.autoRevert, ...(change.reason !== undefined ? { reason: change.reason } : {}) }));
          break;
        case "jobStatus":
          store.setJobStatus(change.name, change.status, changes.now);
          break;
        case "rolloutFailure":
          store.setRolloutFailure(change.name, change.version, change.reason);
          break;
        case "deleteJob":
          store.deleteJob(change.name);
          break;
        case "deleteVersion":
          store.deleteJobVersion(change.name, change.version);
          break;
        case "task": {
          const { task, insert } = changes.tasks.get(change.id) as { task: Task; insert: boolean };
          if (insert) store.insertTask(task);
          else store.updateTask(task);
          break;
        }
        case "taskEvent":
          store.addTaskEvent(change.taskId, changes.now, change.state, change.message);
          break;
        case "deleteTask":
          store.deleteTask(change.id);
          break;
        case "node":
          store.upsertNode(change.node);
          break;
        case "secret":
          store.putSecret(change.secret);
          break;
        case "deleteSecret":
          store.deleteSecret(change.name);
          break;
        case "keyring":
          store.putKeyring(change.keyring);
          break;
      }
    }
    return jobs;
  });
}
