import { ConflictError, UnavailableError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import type { JobVersion } from "../../model/api-types.ts";
import type { Job, JobSpec } from "../../model/job.ts";
import type { Node, NodeStats } from "../../model/node.ts";
import type { Task, TaskEvent } from "../../model/task.ts";
import type { TaskState } from "../../model/task-state.ts";
import type { Token } from "../../model/token.ts";
import { canonicalJson } from "../canonical-json.ts";
import type { LeadershipCallbacks, ManagerRecord, SharedEvent, SharedStore, SharedStoreListener } from "../shared-store.ts";
import type { TaskFilter } from "../tasks-repo.ts";
import { type Compare, EtcdError, EtcdGateway, type Op, type WatchEvent } from "./etcd-gateway.ts";
import type { SnapshotRecord } from "../snapshot.ts";
import { keys, LEADER_KEY, parseKey, ROOT, STATE_PREFIXES } from "./etcd-keys.ts";
import { EtcdMirror, noChanges } from "./etcd-mirror.ts";
import { Leadership } from "./leadership.ts";

/** etcd's defaults: --max-txn-ops 128 and a request of at most 1.5 MiB (values travel as base64, a third bigger). */
const MAX_TXN_OPS = 128;
const MAX_TXN_BYTES = 900 * 1024;
/** A task's events kept in its value, newest last. */
const TASK_EVENTS_KEPT = 20;
/** Shared events live this long in etcd: long enough for every manager's watch, then etcd forgets them. */
const EVENT_LEASE_SECONDS = 120;
const MANAGER_SEEN_EVERY_MS = 2_000;
/** Keys per transaction when a snapshot is restored. */
const RESTORE_CHUNK = 100;

/** One logical transaction, as etcd will get it: the keys written (null: deleted), prefixes deleted, and the revision each written key must still have. */
interface Pending {
  ops: Map<string, string | null>;
  ranges: string[];
  /** A number: the key's mod revision when it was read; a Pending: an earlier write of ours still on its way (its revision, once stored). */
  bases: Map<string, number | Pending>;
  events: SharedEvent[];
  revision: number;
  done: boolean;
  waiters: { resolve: () => void; reject: (err: Error) => void }[];
  bytes: number;
}

/** What a transaction that throws must put back: the key's text and its place among the pending ops. */
interface Undo {
  key: string;
  text: string | null;
  op: string | null | undefined;
}

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
 * and transactions are synchronous like SQLite's. A transaction changes the mirror at once and queues
 * its writes; they go to etcd in the order made, packed into as few etcd transactions as fit etcd's
 * limits (a logical transaction is never split), one at a time. Each carries a compare on every key it
 * writes — its mod revision when read — and, while this manager leads, the leadership fence: another
 * manager's write in between, or a lost leadership, refuses it. A refused or failed write fails every
 * write queued after it (they were built on it) and the store reloads everything from etcd; until that
 * is done, new transactions are refused with a 503.
 */
export class EtcdStore implements SharedStore {
  readonly shared = true;
  readonly managerName: string;
  private readonly etcd: EtcdGateway;
  private readonly log: Logger;
  private readonly mirror = new EtcdMirror();
  /** The mod revision of each key as etcd last told us. */
  private readonly known = new Map<string, number>();
  /** The last logical transaction of ours that wrote each key. */
  private readonly lastLocal = new Map<string, Pending>();
  private current: Pending | null = null;
  private readonly undo: Undo[][] = [];
  private readonly undoRanges: number[] = [];
  private readonly queue: Pending[] = [];
  private inFlight: Pending[] = [];
  private flushing = false;
  private broken: Error | null = null;
  private closed = false;
  private watchAbort = new AbortController();
  private listener: SharedStoreListener | null = null;
  private leadership: Leadership | null = null;
  private readonly managerRecords = new Map<string, ManagerRecord>();
  private leaderName: string | null = null;
  private eventLease: { id: string; grantedAt: number } | null = null;
  private eventSeq = 0;
  private seenTimer: ReturnType<typeof setInterval> | undefined;
  private settledWaiters: (() => void)[] = [];
  private readonly leaderTtlSeconds: number;

  private constructor(options: EtcdStoreOptions) {
    this.etcd = new EtcdGateway(options.endpoints, options.timeoutMs);
    this.managerName = options.managerName;
    this.log = options.log;
    this.leaderTtlSeconds = options.leaderTtlSeconds ?? 3;
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

  // ---- transactions --------------------------------------------------------------------------

  transaction<T>(fn: () => T): T {
    if (this.broken) throw new UnavailableError(`this manager takes no writes until it has read etcd again (${this.broken.message}); try again in a moment`);
    const outer = this.current === null;
    if (outer) this.current = { ops: new Map(), ranges: [], bases: new Map(), events: [], revision: 0, done: false, waiters: [], bytes: 0 };
    const frame: Undo[] = [];
    this.undo.push(frame);
    this.undoRanges.push((this.current as Pending).ranges.length);
    try {
      const result = fn();
      this.undo.pop();
      this.undoRanges.pop();
      if (outer) this.enqueue(this.current as Pending);
      else this.undo[this.undo.length - 1]?.push(...frame);
      return result;
    } catch (err) {
      this.undo.pop();
      const rangesBefore = this.undoRanges.pop() as number;
      const tx = this.current as Pending;
      for (const { key, text, op } of frame.reverse()) {
        this.mirror.place(key, text);
        if (op === undefined) tx.ops.delete(key);
        else tx.ops.set(key, op);
      }
      tx.ranges.length = rangesBefore;
      throw err;
    } finally {
      if (outer) this.current = null;
    }
  }

  /** Writes a key in the current transaction (`compare`: refused if someone else wrote it since we read it). */
  private write(key: string, value: unknown, compare = true): void {
    const tx = this.current;
    if (!tx) return void this.transaction(() => this.write(key, value, compare));
    if (tx.ranges.some((prefix) => key.startsWith(prefix))) throw new Error(`cannot write ${key}: its prefix was deleted in the same transaction`);
    const text = value === null ? null : JSON.stringify(value);
    this.undo[this.undo.length - 1]?.push({ key, text: this.mirror.raw.get(key) ?? null, op: tx.ops.get(key) });
    this.mirror.place(key, text);
    tx.ops.set(key, text);
    if (compare && !tx.bases.has(key)) {
      const earlier = this.lastLocal.get(key);
      tx.bases.set(key, earlier && !earlier.done ? earlier : (this.known.get(key) ?? 0));
    }
  }

  /** Deletes every key under prefix in the current transaction, with one operation. */
  private deletePrefix(prefix: string): void {
    const tx = this.current as Pending;
    const frame = this.undo[this.undo.length - 1] as Undo[];
    for (const key of [...this.mirror.raw.keys()].filter((k) => k.startsWith(prefix))) {
      frame.push({ key, text: this.mirror.raw.get(key) ?? null, op: tx.ops.get(key) });
      this.mirror.place(key, null);
      tx.ops.delete(key);
    }
    for (const key of [...tx.ops.keys()].filter((k) => k.startsWith(prefix))) {
      frame.push({ key, text: null, op: tx.ops.get(key) });
      tx.ops.delete(key);
    }
    tx.ranges.push(prefix);
  }

  private enqueue(tx: Pending): void {
    if (tx.ops.size === 0 && tx.ranges.length === 0 && tx.events.length === 0) return;
    for (const [key, text] of tx.ops) tx.bytes += key.length + (text?.length ?? 0);
    for (const key of tx.ops.keys()) this.lastLocal.set(key, tx);
    this.queue.push(tx);
    if (!this.flushing) queueMicrotask(() => void this.flush());
  }

  durable(): Promise<void> {
    const last = this.queue[this.queue.length - 1] ?? this.inFlight[this.inFlight.length - 1];
    if (!last) return Promise.resolve();
    return new Promise((resolve, reject) => last.waiters.push({ resolve, reject }));
  }

  settled(): Promise<void> {
    if (!this.broken && this.queue.length === 0 && this.inFlight.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private wakeSettled(): void {
    if (this.broken || this.queue.length > 0 || this.inFlight.length > 0) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const wake of waiters) wake();
  }

  // ---- sending to etcd -----------------------------------------------------------------------

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0 && !this.broken) {
        this.inFlight = this.takeBatch();
        try {
          await this.send(this.inFlight);
        } catch (err) {
          this.fail(err as Error);
        }
        this.inFlight = [];
      }
    } finally {
      this.flushing = false;
      this.wakeSettled();
    }
  }

  /** The queued transactions that fit in one etcd transaction, in order; none of them touches a key another one does. */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const touched = new Set<string>();
    const ranges: string[] = [];
    let ops = 1;
    let compares = 2;
    let bytes = 0;
    for (const tx of this.queue) {
      const txOps = tx.ops.size + tx.ranges.length;
      const overlaps =
        [...tx.ops.keys()].some((k) => touched.has(k) || ranges.some((p) => k.startsWith(p))) ||
        tx.ranges.some((p) => ranges.some((q) => p.startsWith(q) || q.startsWith(p)) || [...touched].some((k) => k.startsWith(p)));
      const fits = ops + txOps <= MAX_TXN_OPS && compares + tx.bases.size <= MAX_TXN_OPS && bytes + tx.bytes <= MAX_TXN_BYTES;
      if (batch.length > 0 && (overlaps || !fits)) break;
      batch.push(tx);
      ops += txOps;
      compares += tx.bases.size;
      bytes += tx.bytes;
      for (const k of tx.ops.keys()) touched.add(k);
      ranges.push(...tx.ranges);
    }
    this.queue.splice(0, batch.length);
    return batch;
  }

  private async send(batch: Pending[]): Promise<void> {
    const fence = this.leadership?.fence ?? null;
    const compare: Compare[] = [...(fence ?? [])];
    const success: Op[] = [];
    const events: SharedEvent[] = [];
    for (const tx of batch) {
      for (const [key, base] of tx.bases) {
        compare.push({ key, target: "MOD", revision: typeof base === "number" ? base : base.revision });
      }
      for (const prefix of tx.ranges) success.push({ delete: { key: prefix, prefix: true } });
      for (const [key, text] of tx.ops) success.push(text === null ? { delete: { key } } : { put: { key, value: text } });
      events.push(...tx.events);
    }
    if (success.length > MAX_TXN_OPS || compare.length > MAX_TXN_OPS) {
      throw new Error(`one change needs ${success.length} operations and ${compare.length} compares, more than etcd's ${MAX_TXN_OPS}; this is a bug in Cube, please report it`);
    }
    if (events.length > 0) success.push({ put: { key: keys.events(this.managerName, ++this.eventSeq), value: JSON.stringify(events), lease: await this.eventLeaseId() } });
    const result = await this.etcd.txn(compare, success);
    if (!result.succeeded) {
      if (fence && !(await this.holds(fence))) {
        this.leadership?.lose("a fenced write was refused: its leadership had ended");
        throw new UnavailableError("this manager was the leader no more: its write was refused, nothing was stored");
      }
      throw new ConflictError("another manager changed the same records first, nothing was stored; try again");
    }
    for (const tx of batch) {
      tx.done = true;
      tx.revision = result.revision;
      for (const [key, text] of tx.ops) {
        if (text === null) this.known.delete(key);
        else this.known.set(key, result.revision);
        if (this.lastLocal.get(key) === tx) this.lastLocal.delete(key);
      }
      for (const waiter of tx.waiters) waiter.resolve();
    }
  }

  /** Whether the leader key is still the one the fence names (else the fence, not a compare of a record, refused the write). */
  private async holds(fence: Compare[]): Promise<boolean> {
    const holder = await this.etcd.get(LEADER_KEY).catch(() => undefined);
    return holder !== undefined && fence.every((c) => (c.target === "LEASE" ? holder.lease === c.lease : holder.createRevision === c.revision));
  }

  private async eventLeaseId(): Promise<string> {
    const now = Date.now();
    if (!this.eventLease || now - this.eventLease.grantedAt > (EVENT_LEASE_SECONDS * 1000) / 2) {
      this.eventLease = { id: await this.etcd.grantLease(EVENT_LEASE_SECONDS), grantedAt: now };
    }
    return this.eventLease.id;
  }

  /** A write failed: it and every one queued after it are refused, and everything is read again from etcd. */
  private fail(err: Error): void {
    const reason =
      err instanceof EtcdError && err.unavailable
        ? new UnavailableError(`etcd has no quorum or cannot be reached (${err.message}); the write may not have been stored`)
        : err instanceof ConflictError || err instanceof UnavailableError
          ? err
          : new UnavailableError(`etcd refused the write: ${err.message}`);
    this.log.warn("write refused; reloading from etcd", { error: reason.message });
    this.broken = reason;
    const failed = [...this.inFlight, ...this.queue.splice(0)];
    for (const tx of failed) for (const waiter of tx.waiters) waiter.reject(reason);
    void this.reload();
  }

  // ---- reading from etcd ---------------------------------------------------------------------

  private revision = 0;

  private async load(): Promise<void> {
    const { kvs, revision } = await this.etcd.list(ROOT);
    this.mirror.clear();
    this.known.clear();
    this.lastLocal.clear();
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
    this.broken = null;
    this.startWatch();
    this.log.info("reloaded from etcd", { revision: this.revision });
    this.listener?.reloaded();
    this.wakeSettled();
  }

  private startWatch(): void {
    this.watchAbort = new AbortController();
    const signal = this.watchAbort.signal;
    void this.etcd.watch(ROOT, this.revision + 1, { events: (events) => this.applyWatched(events), compacted: () => void this.reloadAfterCompaction() }, signal);
  }

  private async reloadAfterCompaction(): Promise<void> {
    this.log.warn("etcd compacted the history this manager watched from; reloading");
    this.broken ??= new UnavailableError("reloading from etcd");
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
      if (this.lastLocal.has(kv.key)) continue;
      if (kv.modRevision <= (this.known.get(kv.key) ?? 0)) continue;
      const text = type === "put" ? kv.value : null;
      if (text === null) this.known.delete(kv.key);
      else this.known.set(kv.key, kv.modRevision);
      if ((this.mirror.raw.get(kv.key) ?? null) === text) continue;
      this.mirror.place(kv.key, text, changes);
    }
    const any = changes.jobs.size + changes.tasks.size + changes.nodes.size + changes.tokens.size + changes.heartbeats.size + shared.length > 0;
    if (any) this.listener?.changed(changes, shared);
  }

  // ---- sharing ---------------------------------------------------------------------------------

  follow(listener: SharedStoreListener): void {
    this.listener = listener;
  }

  elect(address: string, callbacks: LeadershipCallbacks): void {
    const startedAt = Date.now();
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
    if (events.length === 0) return;
    if (!this.current) return void this.transaction(() => this.shareEvents(events));
    this.current.events.push(...events);
  }

  shareHeartbeat(nodeId: string, at: number, stats: NodeStats | null): void {
    if (this.broken) return;
    this.write(keys.heartbeat(nodeId), { at, stats }, false);
  }

  // ---- the Store interface ---------------------------------------------------------------------

  putJob(spec: JobSpec, now: number, options: { autoRevert?: boolean } = {}) {
    return this.transaction(() => {
      const existing = this.mirror.getJob(spec.name);
      const json = canonicalJson(spec);
      const autoRevert = options.autoRevert === true;
      if (!existing) {
        const job: Job = { spec, version: 1, status: "running", createdAt: now, updatedAt: now };
        this.write(keys.job(spec.name), job);
        this.write(keys.version(spec.name, 1), { version: 1, spec, createdAt: now, rolloutFailure: null, autoRevert } satisfies JobVersion);
        return { job, created: true, changed: true };
      }
      const changed = canonicalJson(existing.spec) !== json;
      const version = changed ? existing.version + 1 : existing.version;
      const rewrite = changed || existing.status !== "running";
      const job: Job = { spec, version, status: "running", createdAt: existing.createdAt, updatedAt: rewrite ? now : existing.updatedAt };
      if (changed) this.write(keys.version(spec.name, version), { version, spec, createdAt: now, rolloutFailure: null, autoRevert } satisfies JobVersion);
      if (rewrite) this.write(keys.job(spec.name), job);
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
    this.write(keys.version(name, version), { ...stored, rolloutFailure: reason });
  }
  setJobStatus(name: string, status: Job["status"], now: number) {
    const job = this.mirror.getJob(name);
    if (!job) throw new Error(`job ${name} does not exist`);
    this.write(keys.job(name), { ...job, status, updatedAt: now });
  }
  deleteJobVersion(name: string, version: number) {
    if (this.mirror.versions.get(name)?.has(version)) this.write(keys.version(name, version), null);
  }
  deleteTask(id: string) {
    const stored = this.mirror.tasks.get(id);
    if (stored) this.write(keys.task(stored.task.job, id), null);
  }
  deleteJob(name: string) {
    this.transaction(() => {
      this.deletePrefix(keys.tasks(name));
      this.deletePrefix(keys.versions(name));
      if (this.mirror.getJob(name)) this.write(keys.job(name), null);
    });
  }
  insertTask(task: Task) {
    if (this.mirror.tasks.has(task.id)) throw new Error(`task ${task.id} already exists`);
    this.write(keys.task(task.job, task.id), { task, events: [] });
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
    this.write(keys.task(task.job, task.id), { task, events: stored.events });
  }
  addTaskEvent(taskId: string, at: number, state: TaskState, message: string): TaskEvent {
    const stored = this.mirror.tasks.get(taskId);
    if (!stored) throw new Error(`task ${taskId} does not exist`);
    const event: TaskEvent = { id: (stored.events[stored.events.length - 1]?.id ?? 0) + 1, taskId, at, state, message };
    this.write(keys.task(stored.task.job, taskId), { task: stored.task, events: [...stored.events, event].slice(-TASK_EVENTS_KEPT) });
    return event;
  }
  listTaskEvents(taskId: string) {
    return this.mirror.listTaskEvents(taskId);
  }
  upsertNode(node: Node) {
    const named = this.mirror.getNodeByName(node.name);
    if (named && named.id !== node.id) throw new Error(`node name ${node.name} belongs to node ${named.id}`);
    this.write(keys.node(node.id), node);
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
    this.write(keys.token(token.id), { token, hash });
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
    this.write(keys.token(id), { ...stored, token: { ...stored.token, revokedAt: now } });
    return true;
  }
  touchToken(id: string, now: number) {
    // Best effort: a touch is not worth a 503, and it never races a revoke (a key of its own, no compare).
    if (!this.broken) this.write(keys.tokenUse(id), now, false);
  }

  /**
   * One transaction deletes every state prefix; the records follow in transactions of RESTORE_CHUNK
   * keys (a whole cluster does not fit in one etcd transaction). The records were checked before.
   */
  replaceAll(records: readonly SnapshotRecord[]): void {
    this.transaction(() => {
      for (const prefix of STATE_PREFIXES) this.deletePrefix(prefix);
    });
    const puts: [string, unknown][] = [];
    for (const r of records) {
      if (r.kind === "job") {
        puts.push([keys.job(r.job.spec.name), r.job]);
        for (const v of r.versions) puts.push([keys.version(r.job.spec.name, v.version), v]);
      } else if (r.kind === "task") puts.push([keys.task(r.task.job, r.task.id), { task: r.task, events: r.events.slice(-TASK_EVENTS_KEPT) }]);
      else if (r.kind === "node") puts.push([keys.node(r.node.id), r.node]);
      else puts.push([keys.token(r.token.id), { token: r.token, hash: r.hash }]);
    }
    for (let i = 0; i < puts.length; i += RESTORE_CHUNK) {
      this.transaction(() => {
        for (const [key, value] of puts.slice(i, i + RESTORE_CHUNK)) this.write(key, value, false);
      });
    }
  }

  close(): void {
    this.closed = true;
    this.watchAbort.abort();
    clearInterval(this.seenTimer);
    void this.leadership?.stop();
    for (const wake of this.settledWaiters) wake();
  }

  /** Gives leadership up and waits until the writes made so far are sent (a manager that stops cleanly). */
  async shutdown(): Promise<void> {
    await this.durable().catch(() => undefined);
    await this.leadership?.stop();
    this.close();
  }
}
