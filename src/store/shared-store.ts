import type { ClusterEvent } from "../model/api-types.ts";
import type { NodeStats } from "../model/node.ts";
import type { MirrorChanges } from "./etcd/etcd-mirror.ts";
import type { Store } from "./store.ts";

export type { MirrorChanges };

export type SharedEvent = Omit<ClusterEvent, "index">;

/** A manager as the others see it (`GET /v1/managers`). */
export interface ManagerRecord {
  name: string;
  address: string;
  startedAt: number;
  lastSeenAt: number;
}

export interface SharedStoreListener {
  /** Other managers changed these entities (already in the store's reads), and published these events. */
  changed(changes: MirrorChanges, events: SharedEvent[]): void;
  /** The store read everything again (after it refused a write, or its watch lost history): so must the manager. */
  reloaded(): void;
}

export interface LeadershipCallbacks {
  /** This manager is the leader now; every write it makes from here on is fenced by its lease. */
  lead(): void;
  /** It is not (any more): the lease is gone, a fenced write was refused, or renewals failed for a TTL. */
  follow(why: string): void;
}

/**
 * A store several managers share (etcd). On top of the Store interface: other managers' writes
 * arrive through `follow`, one manager at a time leads (`elect`), events are shared with the writes
 * that caused them, and each node's heartbeat is shared now and then so a new leader knows who lives.
 */
export interface SharedStore extends Store {
  readonly shared: true;
  /** This manager's name, unique among the managers. */
  readonly managerName: string;
  follow(listener: SharedStoreListener): void;
  /** Registers this manager (its address, seen every few seconds) and campaigns for leadership until closed. */
  elect(address: string, callbacks: LeadershipCallbacks): void;
  /** Whether this manager holds the leadership now, as far as it knows. */
  readonly leading: boolean;
  /** The managers that registered, and the leader's name (null during an election). */
  managers(): { managers: ManagerRecord[]; leader: string | null };
  /** Events of the current transaction, stored with it for the other managers to publish; outside one, stored on their own (best effort: dropped while the store refuses writes). */
  shareEvents(events: readonly SharedEvent[]): void;
  /** A node's last heartbeat, for the other managers (no compare: the newest wins when read). */
  shareHeartbeat(nodeId: string, at: number, stats: NodeStats | null): void;
  /** Resolves when nothing is waiting to be stored and the store is not reloading; never rejects. */
  settled(): Promise<void>;
}

export function isShared(store: Store): store is SharedStore {
  return store.shared;
}
