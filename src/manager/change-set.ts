import type { ClusterEvent } from "../model/api-types.ts";
import type { Job, JobSpec } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { StoredKeyring, StoredSecret } from "../model/secret.ts";
import type { Task } from "../model/task.ts";
import type { TaskState } from "../model/task-state.ts";

/** What the store answers to a job write: the version it kept, and whether it was new or changed. */
export interface PutJobResult {
  job: Job;
  created: boolean;
  changed: boolean;
}

export type NewEvent = Omit<ClusterEvent, "index">;

/** One write, in the order it was asked for; a task's write carries its latest value (see ChangeSet.tasks). */
export type Change =
  | { kind: "putJob"; spec: JobSpec; autoRevert: boolean; reason?: string; describe: (result: PutJobResult) => string }
  | { kind: "jobStatus"; name: string; status: Job["status"] }
  | { kind: "rolloutFailure"; name: string; version: number; reason: string }
  | { kind: "deleteJob"; name: string }
  | { kind: "deleteVersion"; name: string; version: number }
  | { kind: "task"; id: string }
  | { kind: "taskEvent"; taskId: string; state: TaskState; message: string }
  | { kind: "deleteTask"; id: string }
  | { kind: "node"; node: Node }
  | { kind: "secret"; secret: StoredSecret }
  | { kind: "deleteSecret"; name: string }
  | { kind: "keyring"; keyring: StoredKeyring };

/**
 * Writes the control plane wants made together, as data: built by commands, the evaluator and the
 * worker protocol from what they read, then committed in one place (commit.ts) — the store first,
 * in one transaction, then memory, then events and wake-ups. Reads of a task go through `task`,
 * so a change set sees its own writes (a task created, then placed).
 */
export class ChangeSet {
  readonly changes: Change[] = [];
  /** Each task written, with its latest value and whether it is new to the store. */
  readonly tasks = new Map<string, { task: Task; insert: boolean }>();
  readonly events: NewEvent[] = [];

  constructor(readonly now: number) {}

  get empty(): boolean {
    return this.changes.length === 0 && this.events.length === 0;
  }

  /** The task as this change set last wrote it, or undefined when it did not. */
  task(id: string): Task | undefined {
    return this.tasks.get(id)?.task;
  }

  /** `reason`: why the manager makes a version itself, kept with the version. */
  putJob(spec: JobSpec, describe: (result: PutJobResult) => string, autoRevert = false, reason?: string): void {
    this.changes.push({ kind: "putJob", spec, autoRevert, describe, ...(reason !== undefined ? { reason } : {}) });
  }

  setJobStatus(name: string, status: Job["status"]): void {
    this.changes.push({ kind: "jobStatus", name, status });
  }

  rolloutFailed(name: string, version: number, reason: string): void {
    this.changes.push({ kind: "rolloutFailure", name, version, reason });
  }

  deleteJob(name: string): void {
    this.changes.push({ kind: "deleteJob", name });
  }

  deleteVersion(name: string, version: number): void {
    this.changes.push({ kind: "deleteVersion", name, version });
  }

  writeTask(task: Task): void {
    const written = this.tasks.get(task.id);
    if (written) {
      written.task = task;
      return;
    }
    this.tasks.set(task.id, { task, insert: false });
    this.changes.push({ kind: "task", id: task.id });
  }

  insertTask(task: Task): void {
    this.tasks.set(task.id, { task, insert: true });
    this.changes.push({ kind: "task", id: task.id });
  }

  taskEvent(taskId: string, state: TaskState, message: string): void {
    this.changes.push({ kind: "taskEvent", taskId, state, message });
  }

  deleteTask(id: string): void {
    this.changes.push({ kind: "deleteTask", id });
  }

  /** A node's durable fields changed (registration, status, eligibility); heartbeats stay in memory. */
  putNode(node: Node): void {
    this.changes.push({ kind: "node", node });
  }

  /** Secrets and the keyring live in the store alone (no memory copy): sealed values, read when asked. */
  putSecret(secret: StoredSecret): void {
    this.changes.push({ kind: "secret", secret });
  }

  deleteSecret(name: string): void {
    this.changes.push({ kind: "deleteSecret", name });
  }

  putKeyring(keyring: StoredKeyring): void {
    this.changes.push({ kind: "keyring", keyring });
  }

  publish(event: NewEvent): void {
    this.events.push(event);
  }
}
