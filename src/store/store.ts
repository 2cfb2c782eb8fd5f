import type { Database } from "bun:sqlite";
import type { JobVersion } from "../model/api-types.ts";
import type { Job, JobSpec } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { StoredKeyring, StoredSecret } from "../model/secret.ts";
import type { Task, TaskEvent } from "../model/task.ts";
import type { Token } from "../model/token.ts";
import type { TaskState } from "../model/task-state.ts";
import { JobsRepo } from "./jobs-repo.ts";
import type { SnapshotRecord } from "./snapshot.ts";
import { NodesRepo } from "./nodes-repo.ts";
import { openDatabase } from "./open.ts";
import { SecretsRepo } from "./secrets-repo.ts";
import { type TaskFilter, TasksRepo } from "./tasks-repo.ts";
import { TokensRepo } from "./tokens-repo.ts";
import { type Checkpointer, startCheckpointer } from "./wal-checkpointer.ts";

/**
 * What the manager keeps: SQLite here, etcd in etcd/etcd-store.ts. Every method is synchronous, so a
 * transaction is a plain callback with no await inside: reads and writes act on what the store holds
 * in this process, and `durable()` says when the writes made so far are stored for good — SQLite at
 * once (the transaction was the write), etcd once the transactions it sends for them are accepted.
 */
export interface Store {
  /** False for SQLite: one manager owns it. True for etcd (see SharedStore). */
  readonly shared: boolean;
  /** Runs fn in one transaction; a nested call joins the outer one as a savepoint. */
  transaction<T>(fn: () => T): T;
  /**
   * Resolves once every transaction made so far is stored; rejects (UnavailableError, ConflictError)
   * when the store refused one of them — it then reloads what it holds, and so must its caller.
   */
  durable(): Promise<void>;
  /**
   * Stores spec as a new version when it differs from the current one (canonical JSON, so key order does not count),
   * else leaves it; a stopped job submitted again becomes running, with a new version only if its spec differs.
   * `reason`: why the manager made the version itself (kept with it).
   */
  putJob(spec: JobSpec, now: number, options?: { autoRevert?: boolean; reason?: string }): { job: Job; created: boolean; changed: boolean };
  getJob(name: string): Job | null;
  /** By name. */
  listJobs(): Job[];
  /** Newest first. */
  listJobVersions(name: string): JobVersion[];
  /** Every job's versions by job name, newest first (what a manager loads at start). */
  listAllJobVersions(): Map<string, JobVersion[]>;
  /** Records why the rolling update to a version failed; throws if there is no such version. */
  setRolloutFailure(name: string, version: number, reason: string): void;
  /** Throws if the job does not exist. */
  setJobStatus(name: string, status: Job["status"], now: number): void;
  /** Forgets one stored version of a job (history trimming). */
  deleteJobVersion(name: string, version: number): void;
  /** Forgets a task and its events. */
  deleteTask(id: string): void;
  /** Forgets the job with its versions, tasks and events. */
  deleteJob(name: string): void;
  insertTask(task: Task): void;
  getTask(id: string): Task | null;
  /** The one task whose id starts with prefix (case-sensitive), null when none; throws AmbiguousIdError naming up to 5 when several. */
  findTaskByPrefix(prefix: string): Task | null;
  /** Ordered by job, group, index, creation. */
  listTasks(filter?: TaskFilter): Task[];
  /** Writes every field a task may change (not its id, job, group, index or creation time), by id; throws if the id does not exist. */
  updateTask(task: Task): void;
  /** Kept with the task, which keeps its newest TASK_EVENTS_KEPT events; throws if the task does not exist. */
  addTaskEvent(taskId: string, at: number, state: TaskState, message: string): TaskEvent;
  /** The newest TASK_EVENTS_KEPT, oldest first. */
  listTaskEvents(taskId: string): TaskEvent[];
  /** Inserts, or replaces every field of the node with the same id. */
  upsertNode(node: Node): void;
  getNode(id: string): Node | null;
  getNodeByName(name: string): Node | null;
  /** By name. */
  listNodes(): Node[];
  /** Stores a token with the SHA-256 (hex) of its secret. */
  insertToken(token: Token, hash: string): void;
  /** The token and its hash, revoked or not. */
  getToken(id: string): { token: Token; hash: string } | null;
  /** Oldest first, revoked ones included. */
  listTokens(): Token[];
  /** The node's worker credentials, oldest first, revoked ones included. */
  listNodeTokens(nodeId: string): { token: Token; hash: string }[];
  /** False when there was no such live token. */
  revokeToken(id: string, now: number): boolean;
  touchToken(id: string, now: number): void;
  /** Inserts, or replaces the secret of the same name (its values are sealed: the store never sees a plaintext). */
  putSecret(secret: StoredSecret): void;
  getSecret(name: string): StoredSecret | null;
  /** By name. */
  listSecrets(): StoredSecret[];
  deleteSecret(name: string): void;
  /** The wrapped data keys that seal the secrets; null until the first secret is stored. */
  getKeyring(): StoredKeyring | null;
  putKeyring(keyring: StoredKeyring): void;
  /** Forgets everything and keeps the snapshot's records instead (cube snapshot restore); the records were checked (parseSnapshot). */
  replaceAll(records: readonly SnapshotRecord[]): void;
  close(): void;
}

export class SqliteStore implements Store {
  private readonly jobs: JobsRepo;
  private readonly tasks: TasksRepo;
  private readonly nodes: NodesRepo;
  private readonly tokens: TokensRepo;
  private readonly secrets: SecretsRepo;

  constructor(
    private readonly db: Database,
    private readonly checkpointer: Checkpointer | null = null,
  ) {
    this.jobs = new JobsRepo(db);
    this.tasks = new TasksRepo(db);
    this.nodes = new NodesRepo(db);
    this.tokens = new TokensRepo(db);
    this.secrets = new SecretsRepo(db);
  }

  readonly shared = false;

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  durable(): Promise<void> {
    return Promise.resolve();
  }

  putJob(spec: JobSpec, now: number, options: { autoRevert?: boolean; reason?: string } = {}) {
    return this.transaction(() => this.jobs.put(spec, now, options.autoRevert === true, options.reason ?? null));
  }
  getJob(name: string) {
    return this.jobs.find(name);
  }
  listJobs() {
    return this.jobs.all();
  }
  listJobVersions(name: string) {
    return this.jobs.history(name);
  }
  listAllJobVersions() {
    return this.jobs.everyHistory();
  }
  setRolloutFailure(name: string, version: number, reason: string) {
    this.jobs.rolloutFailed(name, version, reason);
  }
  setJobStatus(name: string, status: Job["status"], now: number) {
    this.jobs.status(name, status, now);
  }
  deleteJob(name: string) {
    this.jobs.delete(name);
  }
  deleteJobVersion(name: string, version: number) {
    this.jobs.deleteVersion(name, version);
  }
  deleteTask(id: string) {
    this.tasks.delete(id);
  }
  insertTask(task: Task) {
    this.tasks.insert(task);
  }
  getTask(id: string) {
    return this.tasks.find(id);
  }
  findTaskByPrefix(prefix: string) {
    return this.tasks.findByPrefix(prefix);
  }
  listTasks(filter?: TaskFilter) {
    return this.tasks.list(filter);
  }
  updateTask(task: Task) {
    this.tasks.update(task);
  }
  addTaskEvent(taskId: string, at: number, state: TaskState, message: string) {
    return this.tasks.event(taskId, at, state, message);
  }
  listTaskEvents(taskId: string) {
    return this.tasks.history(taskId);
  }
  upsertNode(node: Node) {
    this.nodes.upsert(node);
  }
  getNode(id: string) {
    return this.nodes.find(id);
  }
  getNodeByName(name: string) {
    return this.nodes.findByName(name);
  }
  listNodes() {
    return this.nodes.list();
  }
  insertToken(token: Token, hash: string) {
    this.tokens.insert(token, hash);
  }
  getToken(id: string) {
    return this.tokens.find(id);
  }
  listTokens() {
    return this.tokens.list();
  }
  listNodeTokens(nodeId: string) {
    return this.tokens.ofNode(nodeId);
  }
  revokeToken(id: string, now: number) {
    return this.tokens.revoke(id, now);
  }
  touchToken(id: string, now: number) {
    this.tokens.touch(id, now);
  }
  putSecret(secret: StoredSecret) {
    this.secrets.put(secret);
  }
  getSecret(name: string) {
    return this.secrets.find(name);
  }
  listSecrets() {
    return this.secrets.list();
  }
  deleteSecret(name: string) {
    this.secrets.delete(name);
  }
  getKeyring() {
    return this.secrets.keyring();
  }
  putKeyring(keyring: StoredKeyring) {
    this.secrets.putKeyring(keyring);
  }
  replaceAll(records: readonly SnapshotRecord[]) {
    this.transaction(() => {
      for (const table of ["tasks", "job_versions", "jobs", "nodes", "tokens", "secrets", "keyring"]) this.db.run(`DELETE FROM ${table}`);
      for (const r of records) {
        if (r.kind === "job") this.jobs.restore(r.job, r.versions);
        else if (r.kind === "node") this.nodes.upsert(r.node);
        else if (r.kind === "token") this.tokens.insert(r.token, r.hash);
        else if (r.kind === "secret") this.secrets.put(r.secret);
        else if (r.kind === "keyring") this.secrets.putKeyring(r.keyring);
      }
      for (const r of records) {
        if (r.kind !== "task") continue;
        this.tasks.insert(r.task);
        for (const e of r.events) this.tasks.event(r.task.id, e.at, e.state, e.message);
      }
    });
  }
  close() {
    void this.checkpointer?.stop();
    this.db.close();
  }
}

/**
 * Opens the SQLite store at path (":memory:" for tests). A file's WAL checkpoints run in a thread of
 * their own (wal-checkpointer.ts), so no commit waits for one.
 */
export function openStore(path: string): Store {
  const db = openDatabase(path);
  if (path === ":memory:") return new SqliteStore(db);
  db.run("PRAGMA wal_autocheckpoint = 0");
  return new SqliteStore(db, startCheckpointer(path));
}
