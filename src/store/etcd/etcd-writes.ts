import { ConflictError, StoreReloadingError, UnavailableError, WriteConflictError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import type { SharedEvent } from "../shared-store.ts";
import { type Compare, EtcdError, type EtcdGateway, type Op } from "./etcd-gateway.ts";
import { keys, LEADER_KEY } from "./etcd-keys.ts";
import type { EtcdMirror } from "./etcd-mirror.ts";

/** etcd's defaults: --max-txn-ops 128 and a request of at most 1.5 MiB (values travel as base64, a third bigger). */
const MAX_TXN_OPS = 128;
const MAX_TXN_BYTES = 900 * 1024;
/** Shared events live this long in etcd: long enough for every manager's watch, then etcd forgets them. */
const EVENT_LEASE_SECONDS = 120;

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

export interface EtcdWritesDeps {
  etcd: EtcdGateway;
  mirror: EtcdMirror;
  /** The mod revision of each key as etcd last told us. */
  known: Map<string, number>;
  managerName: string;
  log: Logger;
  /** The leadership fence to put in every write, while this manager leads. */
  fence: () => Compare[] | null;
  /** A fenced write was refused because the leadership had ended. */
  fenceRefused: (why: string) => void;
  /** A write was refused or failed: everything must be read from etcd again (then call `recovered`). */
  failed: () => void;
}

/**
 * The etcd store's write path. A transaction changes the mirror at once and queues its writes; they
 * go to etcd in the order made, packed into as few etcd transactions as fit etcd's limits (a logical
 * transaction is never split), one at a time. Each carries a compare on every key it writes — its
 * mod revision when read, or the revision our own earlier write of it got — and, while this manager
 * leads, the leadership fence. A refused or failed write fails every write queued after it (they were
 * built on it); until the store has read etcd again, new transactions are refused with a 503.
 */
export class EtcdWrites {
  /** The last logical transaction of ours that wrote each key, while it is on its way. */
  private readonly lastLocal = new Map<string, Pending>();
  private current: Pending | null = null;
  private readonly undo: Undo[][] = [];
  private readonly undoRanges: number[] = [];
  private readonly queue: Pending[] = [];
  private inFlight: Pending[] = [];
  private flushing = false;
  private broken: Error | null = null;
  private eventLease: { id: string; grantedAt: number } | null = null;
  private eventSeq = 0;
  private settledWaiters: (() => void)[] = [];

  constructor(private readonly deps: EtcdWritesDeps) {}

  transaction<T>(fn: () => T): T {
    if (this.broken) throw new StoreReloadingError(`this manager takes no writes until it has read etcd again (${this.broken.message}); try again in a moment`);
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
        this.deps.mirror.place(key, text);
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
  write(key: string, value: unknown, compare = true): void {
    const tx = this.current;
    if (!tx) return void this.transaction(() => this.write(key, value, compare));
    if (tx.ranges.some((prefix) => key.startsWith(prefix))) throw new Error(`cannot write ${key}: its prefix was deleted in the same transaction`);
    const text = value === null ? null : JSON.stringify(value);
    this.undo[this.undo.length - 1]?.push({ key, text: this.deps.mirror.raw.get(key) ?? null, op: tx.ops.get(key) });
    this.deps.mirror.place(key, text);
    tx.ops.set(key, text);
    if (compare && !tx.bases.has(key)) {
      // After a delete of ours on its way, the key will not exist (mod revision 0); after a put, it will have that write's revision.
      const earlier = this.lastLocal.get(key);
      const base = earlier && !earlier.done ? (earlier.ops.get(key) === null ? 0 : earlier) : this.deletedByUs(key) ? 0 : (this.deps.known.get(key) ?? 0);
      tx.bases.set(key, base);
    }
  }

  /** Whether a prefix delete of ours on its way covers the key (it will not exist then, whatever revision it had). */
  private deletedByUs(key: string): boolean {
    return [...this.inFlight, ...this.queue].some((tx) => tx.ranges.some((prefix) => key.startsWith(prefix)));
  }

  /** Deletes every key under prefix in the current transaction, with one operation. */
  deletePrefix(prefix: string): void {
    const tx = this.current as Pending;
    const frame = this.undo[this.undo.length - 1] as Undo[];
    for (const key of [...this.deps.mirror.raw.keys()].filter((k) => k.startsWith(prefix))) {
      frame.push({ key, text: this.deps.mirror.raw.get(key) ?? null, op: tx.ops.get(key) });
      this.deps.mirror.place(key, null);
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

  /** The store read etcd again: writes are taken again, on top of what it read. */
  recovered(): void {
    this.lastLocal.clear();
    this.broken = null;
    this.wakeSettled();
  }

  /** Wakes whoever waits for the writes to settle (the store is closing). */
  close(): void {
    for (const wake of this.settledWaiters.splice(0)) wake();
  }

  /** Refuses writes until `recovered` (the store reads etcd again for another reason than a refused write). */
  refuse(reason: Error): void {
    this.broken ??= reason;
  }

  /** Why writes are refused now (after a refused write, until the store has read etcd again); null when they are taken. */
  get refusing(): Error | null {
    return this.broken;
  }

  /** Whether a write of ours to the key is on its way (a watched change of it is ours coming back, or will refuse ours). */
  writing(key: string): boolean {
    return this.lastLocal.has(key);
  }

  /** Events of the current transaction, stored with it for the other managers to publish; outside one, on their own (dropped while writes are refused). */
  shareEvents(events: readonly SharedEvent[]): void {
    if (events.length === 0) return;
    if (!this.current && this.broken) return;
    if (!this.current) return void this.transaction(() => this.shareEvents(events));
    this.current.events.push(...events);
  }

  private wakeSettled(): void {
    if (this.broken || this.queue.length > 0 || this.inFlight.length > 0) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const wake of waiters) wake();
  }

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
    const fence = this.deps.fence();
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
    if (events.length > 0) success.push({ put: { key: keys.events(this.deps.managerName, ++this.eventSeq), value: JSON.stringify(events), lease: await this.eventLeaseId() } });
    const result = await this.deps.etcd.txn(compare, success);
    if (!result.succeeded) {
      if (fence && !(await this.holds(fence))) {
        this.deps.fenceRefused("a fenced write was refused: its leadership had ended");
        // Nothing was stored and this manager reads etcd again as a follower: the same request may come again (503 `reloading`).
        throw new StoreReloadingError("this manager was the leader no more: its write was refused, nothing was stored; try again in a moment");
      }
      throw new WriteConflictError("another manager changed the same records first, nothing was stored; try again");
    }
    for (const tx of batch) {
      tx.done = true;
      tx.revision = result.revision;
      // Keys under a deleted prefix are gone: a key made there again (a job purged, then submitted) must not exist yet.
      for (const prefix of tx.ranges) for (const key of this.deps.known.keys()) if (key.startsWith(prefix)) this.deps.known.delete(key);
      for (const [key, text] of tx.ops) {
        if (text === null) this.deps.known.delete(key);
        else this.deps.known.set(key, result.revision);
        if (this.lastLocal.get(key) === tx) this.lastLocal.delete(key);
      }
      for (const waiter of tx.waiters) waiter.resolve();
    }
  }

  /** Whether the leader key is still the one the fence names (else the fence, not a compare of a record, refused the write). */
  private async holds(fence: Compare[]): Promise<boolean> {
    const holder = await this.deps.etcd.get(LEADER_KEY).catch(() => undefined);
    return holder !== undefined && fence.every((c) => (c.target === "LEASE" ? holder.lease === c.lease : holder.createRevision === c.revision));
  }

  private async eventLeaseId(): Promise<string> {
    const now = Date.now();
    if (!this.eventLease || now - this.eventLease.grantedAt > (EVENT_LEASE_SECONDS * 1000) / 2) {
      this.eventLease = { id: await this.deps.etcd.grantLease(EVENT_LEASE_SECONDS), grantedAt: now };
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
    this.deps.log.warn("write refused; reloading from etcd", { error: reason.message });
    this.broken = reason;
    const failed = [...this.inFlight, ...this.queue.splice(0)];
    for (const tx of failed) for (const waiter of tx.waiters) waiter.reject(reason);
    this.deps.failed();
  }
}
