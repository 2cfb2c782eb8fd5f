import { UnavailableError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import type { JobVersion } from "../../model/api-types.ts";
import type { Job, JobSpec } from "../../model/job.ts";
import type { Node, NodeStats } from "../../model/node.ts";
import type { StoredKeyring, StoredSecret } from "../../model/secret.ts";
import { type Task, type TaskEvent, TASK_EVENTS_KEPT } from "../../model/task.ts";
import type { TaskState } from "../../model/task-state.ts";
import type { Token } from "../../model/token.ts";
import { canonicalJson } from "../canonical-json.ts";
import type { LeadershipCallbacks, ManagerRecord, SharedEvent, SharedStore, SharedStoreListener } from "../shared-store.ts";
import type { SnapshotRecord } from "../snapshot.ts";
import type { TaskFilter } from "../tasks-repo.ts";
import { EtcdGateway, type WatchEvent } from "./etcd-gateway.ts";
import { keys, LEADER_KEY, parseKey, ROOT, STATE_PREFIXES } from "./etcd-keys.ts";
import { EtcdMirror, type MirrorChanges, noChanges } from "./etcd-mirror.ts";
import { EtcdWrites } from "./etcd-writes.ts";
import { Leadership } from "./leadership.ts";

const MANAGER_SEEN_EVERY_MS = 2_000;
/** Keys per transaction when a snapshot is restored. */
const RESTORE_CHUNK = 100;

export interface EtcdStoreOptions {
  endpoints: string[];
  /** This manager's name: unique among the managers (it names its registration and its shared events). */
  managerName: string;
  log: Logger;
  /** Leader lease TTL (default 3 s). */
  leaderTtlSeconds?: number;
  /** Deadline of one etcd request (default 2 s). */
  timeoutMs?: number;
}

/**
 * The Store on etcd, for several managers. Every key under /cube/ is mirrored in memory (loaded with
 * a paged range at one revision, then kept current by a prefix watch from the next revision), so reads
 * and transactions are synchronous like SQLite's; writes go to etcd after the code that made them
 * (etcd-writes.ts: compared, fenced, never split). Changes the watch brings that are not this
 * manager's own are handed to the manager (`follow`). When a write is refused, or the watch lost its
 * history, everything is read again and the manager reloads too; writes are refused (503) meanwhile.
 */
export class EtcdStore implements SharedStore {
  readonly shared = true;
  readonly managerName: string;
  private readonly etcd: EtcdGateway;
  private readonly log: Logger;
  private readonly mirror = new EtcdMirror();
  /** The mod revision of each key as etcd last told us. */
  private readonly known = new Map<string, number>();
  private readonly writes: EtcdWrites;
  private closed = false;
  /** The revision everything was last read at; the watch goes on from the next. */
  private revision = 0;
  private watchAbort = new AbortController();
  private listener: SharedStoreListener | null = null;
  /** What the watch brought before anyone followed. */
  private unheard: { changes: MirrorChanges; events: SharedEvent[] } = { changes: noChanges(), events: [] };
  private leadership: Leadership | null = null;
  private readonly managerRecords = new Map<string, ManagerRecord>();
  private leaderName: string | null = null;
  private seenTimer: ReturnType<typeof setInterval> | undefined;
  private readonly leaderTtlSeconds: number;

  private constructor(options: EtcdStoreOptions) {
    this.etcd = new EtcdGateway(options.endpoints, options.timeoutMs);
    this.managerName = options.managerName;
    this.log = options.log;
    this.leaderTtlSeconds = options.leaderTtlSeconds ?? 3;
    this.writes = new EtcdWrites({
      etcd: this.etcd,
      mirror: this.mirror,
      known: this.known,
      managerName: this.managerName,
      log: this.log,
      fence: () => this.leadership?.fence ?? null,
      fenceRefused: (why) => this.leadership?.lose(why),
      failed: () => void this.reload(),
    });
  }

  transaction<T>(fn: () => T): T {
    return this.writes.transaction(fn);
  }

  durable(): Promise<void> {
    return this.writes.durable();
  }

  settled(): Promise<void> {
    return this.writes.settled();
  }

  /** Connects and loads everything; throws, naming the endpoints, when etcd cannot be read. */
  static async open(options: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(options);
    try {
      await store.load();
    } catch (err) {
      throw new Error(`cannot use etcd at ${options.endpoints.join(", ")}: ${(err as Error).message}`);
    }
    store.startWatch();
    return store;
  }

  // ---- reading from etcd ---------------------------------------------------------------------

  private async load(): Promise<void> {
    const { kvs, revision } = await this.etcd.list(ROOT);
    this.mirror.clear();
    this.known.clear();
    this.managerRecords.clear();
    this.leaderName = null;
    for (const kv of kvs) {
      const parsed = parseKey(kv.key);
      if (parsed.kind === "manager") this.managerRecords.set(parsed.name, JSON.parse(kv.value));
      else if (kv.key === LEADER_KEY) this.leaderName = kv.value;
      else if (parsed.kind !== "events" && parsed.kind !== "other") {
        this.mirror.place(kv.key, kv.value);
        this.known.set(kv.key, kv.modRevision);
      }
    }
    this.revision = revision;
  }

  /** Reads everything again until etcd answers, then tells the manager; writes are refused meanwhile. */
  private async reload(): Promise<void> {
    this.watchAbort.abort();
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.load();
        break;
      } catch (err) {
        if (attempt === 0) this.log.warn("cannot reload from etcd yet; retrying", { error: (err as Error).message });
        await Bun.sleep(500);
      }
    }
    if (this.closed) return;
    this.startWatch();
    this.log.info("reloaded from etcd", { revision: this.revision });
    this.listener?.reloaded();
    this.writes.recovered();
  }

  private startWatch(): void {
    this.watchAbort = new AbortController();
    const signal = this.watchAbort.signal;
    void this.etcd.watch(ROOT, this.revision + 1, { events: (events) => this.applyWatched(events), compacted: () => void this.reloadAfterCompaction() }, signal);
  }

  private async reloadAfterCompaction(): Promise<void> {
    this.log.warn("etcd compacted the history this manager watched from; reloading");
    this.writes.refuse(new UnavailableError("it is reading etcd again after etcd compacted the history it watched"));
    await this.reload();
  }

  private applyWatched(events: WatchEvent[]): void {
    const changes = noChanges();
    const shared: SharedEvent[] = [];
    for (const { type, kv } of events) {
      const parsed = parseKey(kv.key);
      if (parsed.kind === "events") {
        if (type === "put" && parsed.manager !== this.managerName) shared.push(...(JSON.parse(kv.value) as SharedEvent[]));
        continue;
      }
      if (parsed.kind === "manager") {
        if (type === "put") this.managerRecords.set(parsed.name, JSON.parse(kv.value));
        else this.managerRecords.delete(parsed.name);
        continue;
      }
      if (kv.key === LEADER_KEY) {
        this.leaderName = type === "put" ? kv.value : null;
        continue;
      }
      if (parsed.kind === "other") continue;
      // A key we are writing: this is our own write coming back, or another's that will refuse ours (and reload).
      if (this.writes.writing(kv.key)) continue;
      if (kv.modRevision <= (this.known.get(kv.key) ?? 0)) continue;
      const text = type === "put" ? kv.value : null;
      if (text === null) this.known.delete(kv.key);
      else this.known.set(kv.key, kv.modRevision);
      if ((this.mirror.raw.get(kv.key) ?? null) === text) continue;
      this.mirror.place(kv.key, text, changes);
    }
    const any = changes.jobs.size + changes.tasks.size + changes.nodes.size + changes.tokens.size + changes.heartbeats.size + shared.length > 0;
    if (!any) return;
    if (this.listener) return this.listener.changed(changes, shared);
    // Nobody follows yet (the manager read the store, and starts soon): kept for it.
    for (const kind of ["jobs", "tasks", "nodes", "tokens", "heartbeats"] as const) for (const id of changes[kind]) this.unheard.changes[kind].add(id);
    this.unheard.events.push(...shared);
  }

  // ---- sharing ---------------------------------------------------------------------------------

  follow(listener: SharedStoreListener): void {
    this.listener = listener;
    const { changes, events } = this.unheard;
    this.unheard = { changes: noChanges(), events: [] };
    listener.changed(changes, events);
  }

  /** Throws when another manager of the same name (at another address) was seen alive a moment ago: names tell managers apart. */
  elect(address: string, callbacks: LeadershipCallbacks): void {
    const startedAt = Date.now();
    const namesake = this.managerRecords.get(this.managerName);
    if (namesake && namesake.address !== address && startedAt - namesake.lastSeenAt < 3 * MANAGER_SEEN_EVERY_MS) {
      throw new Error(`another manager named ${this.managerName} runs at ${namesake.address} (seen ${Math.round((startedAt - namesake.lastSeenAt) / 1000)} s ago); give this one its own --name`);
    }
    const seen = () => {
      const record: ManagerRecord = { name: this.managerName, address, startedAt, lastSeenAt: Date.now() };
      this.managerRecords.set(this.managerName, record);
      void this.etcd.put(keys.manager(this.managerName), JSON.stringify(record)).catch(() => undefined);
    };
    seen();
    this.seenTimer = setInterval(seen, MANAGER_SEEN_EVERY_MS);
    this.leadership = new Leadership(this.etcd, this.managerName, this.leaderTtlSeconds, callbacks, this.log);
    this.leadership.start();
  }

  get leading(): boolean {
    return this.leadership?.leading ?? false;
  }

  managers(): { managers: ManagerRecord[]; leader: string | null } {
    const managers = [...this.managerRecords.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    return { managers, leader: this.leading ? this.managerName : this.leaderName };
  }

  shareEvents(events: readonly SharedEvent[]): void {
    this.writes.shareEvents(events);
  }

  shareHeartbeat(nodeId: string, at: number, stats: NodeStats | null): void {
    if (this.writes.refusing) return;
    this.writes.write(keys.heartbeat(nodeId), { at, stats }, false);
  }

  // ---- the Store interface ---------------------------------------------------------------------

  putJob(spec: JobSpec, now: number, options: { autoRevert?: boolean; reason?: string } = {}) {
    return this.transaction(() => {
      const existing = this.mirror.getJob(spec.name);
      const json = canonicalJson(spec);
      const autoRevert = options.autoRevert === true;
      const reason = options.reason === undefined ? {} : { reason: options.reason };
      if (!existing) {
        const job: Job = { spec, version: 1, status: "running", createdAt: now, updatedAt: now };
        this.writes.write(keys.job(spec.name), job);
        this.writes.write(keys.version(spec.name, 1), { version: 1, spec, createdAt: now, rolloutFailure: null, autoRevert, ...reason } satisfies JobVersion);
        return { job, created: true, changed: true };
      }
      const changed = canonicalJson(existing.spec) !== json;
      const version = changed ? existing.version + 1 : existing.version;
      const rewrite = changed || existing.status !== "running";
      const job: Job = { spec, version, status: "running", createdAt: existing.createdAt, updatedAt: rewrite ? now : existing.updatedAt };
      if (changed) this.writes.write(keys.version(spec.name, version), { version, spec, createdAt: now, rolloutFailure: null, autoRevert, ...reason } satisfies JobVersion);
      if (rewrite) this.writes.write(keys.job(spec.name), job);
      return { job, created: false, changed };
    });
  }
  getJob(name: string) {
    return this.mirror.getJob(name);
  }
  listJobs() {
    return this.mirror.listJobs();
  }
  listJobVersions(name: string) {
    return this.mirror.listJobVersions(name);
  }
  listAllJobVersions() {
    return this.mirror.listAllJobVersions();
  }
  setRolloutFailure(name: string, version: number, reason: string) {
    const stored = this.mirror.versions.get(name)?.get(version);
    if (!stored) throw new Error(`job ${name} has no version ${version}`);
    this.writes.write(keys.version(name, version), { ...stored, rolloutFailure: reason });
  }
  setJobStatus(name: string, status: Job["status"], now: number) {
    const job = this.mirror.getJob(name);
    if (!job) throw new Error(`job ${name} does not exist`);
    this.writes.write(keys.job(name), { ...job, status, updatedAt: now });
  }
  deleteJobVersion(name: string, version: number) {
    if (this.mirror.versions.get(name)?.has(version)) this.writes.write(keys.version(name, version), null);
  }
  deleteTask(id: string) {
    const stored = this.mirror.tasks.get(id);
    if (stored) this.writes.write(keys.task(stored.task.job, id), null);
  }
  deleteJob(name: string) {
    this.transaction(() => {
      this.writes.deletePrefix(keys.tasks(name));
      this.writes.deletePrefix(keys.versions(name));
      if (this.mirror.getJob(name)) this.writes.write(keys.job(name), null);
    });
  }
  insertTask(task: Task) {
    if (this.mirror.tasks.has(task.id)) throw new Error(`task ${task.id} already exists`);
    this.writes.write(keys.task(task.job, task.id), { task, events: [] });
  }
  getTask(id: string) {
    return this.mirror.getTask(id);
  }
  findTaskByPrefix(prefix: string) {
    return this.mirror.findTaskByPrefix(prefix);
  }
  listTasks(filter?: TaskFilter) {
    return this.mirror.listTasks(filter);
  }
  updateTask(task: Task) {
    const stored = this.mirror.tasks.get(task.id);
    if (!stored) throw new Error(`task ${task.id} does not exist`);
    this.writes.write(keys.task(task.job, task.id), { task, events: stored.events });
  }
  addTaskEvent(taskId: string, at: number, state: TaskState, message: string): TaskEvent {
    const stored = this.mirror.tasks.get(taskId);
    if (!stored) throw new Error(`task ${taskId} does not exist`);
    const event: TaskEvent = { id: (stored.events[stored.events.length - 1]?.id ?? 0) + 1, taskId, at, state, message };
    this.writes.write(keys.task(stored.task.job, taskId), { task: stored.task, events: [...stored.events, event].slice(-TASK_EVENTS_KEPT) });
    return event;
  }
  listTaskEvents(taskId: string) {
    return this.mirror.listTaskEvents(taskId);
  }
  upsertNode(node: Node) {
    const named = this.mirror.getNodeByName(node.name);
    if (named && named.id !== node.id) throw new Error(`node name ${node.name} belongs to node ${named.id}`);
    this.writes.write(keys.node(node.id), node);
  }
  getNode(id: string) {
    return this.mirror.getNode(id);
  }
  getNodeByName(name: string) {
    return this.mirror.getNodeByName(name);
  }
  listNodes() {
    return this.mirror.listNodes();
  }
  insertToken(token: Token, hash: string) {
    if (this.mirror.tokens.has(token.id)) throw new Error(`token ${token.id} already exists`);
    this.writes.write(keys.token(token.id), { token, hash });
  }
  getToken(id: string) {
    return this.mirror.getToken(id);
  }
  listTokens() {
    return this.mirror.listTokens();
  }
  listNodeTokens(nodeId: string) {
    return this.mirror.listNodeTokens(nodeId);
  }
  revokeToken(id: string, now: number) {
    const stored = this.mirror.tokens.get(id);
    if (!stored || stored.token.revokedAt !== null) return false;
    this.writes.write(keys.token(id), { ...stored, token: { ...stored.token, revokedAt: now } });
    return true;
  }
  touchToken(id: string, now: number) {
    // Best effort: a touch is not worth a 503, and it never races a revoke (a key of its own, no compare).
    if (!this.writes.refusing) this.writes.write(keys.tokenUse(id), now, false);
  }
  putSecret(secret: StoredSecret) {
    this.writes.write(keys.secret(secret.name), secret);
  }
  getSecret(name: string) {
    return this.mirror.secrets.get(name) ?? null;
  }
  listSecrets() {
    return this.mirror.listSecrets();
  }
  deleteSecret(name: string) {
    if (this.mirror.secrets.has(name)) this.writes.write(keys.secret(name), null);
  }
  getKeyring() {
    return this.mirror.keyring;
  }
  putKeyring(keyring: StoredKeyring) {
    this.writes.write(keys.keyring, keyring);
  }

  /**
   * One transaction deletes every state prefix; the records follow in transactions of RESTORE_CHUNK
   * keys (a whole cluster does not fit in one etcd transaction). The records were checked before.
   */
  replaceAll(records: readonly SnapshotRecord[]): void {
    this.transaction(() => {
      for (const prefix of STATE_PREFIXES) this.writes.deletePrefix(prefix);
    });
    const puts: [string, unknown][] = [];
    for (const r of records) {
      if (r.kind === "job") {
        puts.push([keys.job(r.job.spec.name), r.job]);
        for (const v of r.versions) puts.push([keys.version(r.job.spec.name, v.version), v]);
      } else if (r.kind === "task") puts.push([keys.task(r.task.job, r.task.id), { task: r.task, events: r.events.slice(-TASK_EVENTS_KEPT) }]);
      else if (r.kind === "node") puts.push([keys.node(r.node.id), r.node]);
      else if (r.kind === "token") puts.push([keys.token(r.token.id), { token: r.token, hash: r.hash }]);
      else if (r.kind === "secret") puts.push([keys.secret(r.secret.name), r.secret]);
      else puts.push([keys.keyring, r.keyring]);
    }
    for (let i = 0; i < puts.length; i += RESTORE_CHUNK) {
      this.transaction(() => {
        for (const [key, value] of puts.slice(i, i + RESTORE_CHUNK)) this.writes.write(key, value, false);
      });
    }
  }

  close(): void {
    this.closed = true;
    this.watchAbort.abort();
    clearInterval(this.seenTimer);
    void this.leadership?.stop();
    this.writes.close();
  }

  /** Gives leadership up and waits until the writes made so far are sent (a manager that stops cleanly). */
  async shutdown(): Promise<void> {
    await this.durable().catch(() => undefined);
    await this.leadership?.stop();
    this.close();
  }
}
