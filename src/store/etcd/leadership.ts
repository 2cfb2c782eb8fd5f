import type { Logger } from "../../lib/logger.ts";
import type { LeadershipCallbacks } from "../shared-store.ts";
import { type Compare, EtcdError, type EtcdGateway } from "./etcd-gateway.ts";
import { LEADER_KEY } from "./etcd-keys.ts";

/** How often a follower tries to take an empty leader key. */
const CAMPAIGN_EVERY_MS = 250;

/**
 * Leadership held through an etcd lease: the leader key exists while its holder keeps the lease
 * alive. `fence` goes into every write the leader makes, so a manager that lost leadership (lease
 * expired while it was paused, key deleted, someone else elected) cannot write, even before it knows.
 * It steps down at once when a renewal says the lease is gone, when a fenced write is refused, or when
 * renewals have failed for a whole TTL (the others may have elected someone by then).
 */
export class Leadership {
  private lease = "0";
  private createRevision = 0;
  private renewedAt = 0;
  private keeper: ReturnType<typeof setInterval> | undefined;
  private campaigner: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly etcd: EtcdGateway,
    private readonly name: string,
    private readonly ttlSeconds: number,
    private readonly callbacks: LeadershipCallbacks,
    private readonly log: Logger,
  ) {}

  get leading(): boolean {
    return this.keeper !== undefined;
  }

  /** The compares a leader's write carries: the leader key is still the one it created, under its lease. */
  get fence(): Compare[] | null {
    if (!this.leading) return null;
    return [
      { key: LEADER_KEY, target: "CREATE", revision: this.createRevision },
      { key: LEADER_KEY, target: "LEASE", lease: this.lease },
    ];
  }

  start(): void {
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.campaigner = setTimeout(() => void this.campaign(), delayMs);
  }

  /** One attempt: put-if-absent under a fresh lease; tried again every CAMPAIGN_EVERY_MS while someone else leads. */
  private async campaign(): Promise<void> {
    try {
      const current = await this.etcd.get(LEADER_KEY);
      if (current) return this.schedule(CAMPAIGN_EVERY_MS);
      const lease = await this.etcd.grantLease(this.ttlSeconds);
      const result = await this.etcd
        .txn([{ key: LEADER_KEY, target: "CREATE", revision: 0 }], [{ put: { key: LEADER_KEY, value: this.name, lease } }], [{ range: { key: LEADER_KEY } }])
        .catch((err: Error) => {
          void this.etcd.revokeLease(lease).catch(() => undefined);
          throw err;
        });
      const holder = result.succeeded ? undefined : result.ranges[0]?.[0];
      if (!result.succeeded && holder?.lease !== lease) {
        void this.etcd.revokeLease(lease).catch(() => undefined);
        return this.schedule(CAMPAIGN_EVERY_MS);
      }
      if (this.stopped) return void this.etcd.revokeLease(lease).catch(() => undefined);
      this.lease = lease;
      this.createRevision = result.succeeded ? result.revision : (holder?.createRevision ?? 0);
      this.renewedAt = performance.now();
      // Renew at a third of the TTL, each with a deadline of a sixth, so one dead member costs a renewal, not the lease.
      this.keeper = setInterval(() => void this.renew(), (this.ttlSeconds * 1000) / 3);
      this.log.info("leading", { lease });
      this.callbacks.lead();
    } catch (err) {
      if (!(err instanceof EtcdError)) this.log.error("campaign failed", { error: (err as Error).message });
      this.schedule(CAMPAIGN_EVERY_MS);
    }
  }

  private async renew(): Promise<void> {
    const lease = this.lease;
    try {
      const ttl = await this.etcd.keepAlive(lease, (this.ttlSeconds * 1000) / 6);
      if (lease !== this.lease) return;
      if (ttl > 0) this.renewedAt = performance.now();
      else this.lose("its lease expired");
    } catch {
      if (lease === this.lease && performance.now() - this.renewedAt > this.ttlSeconds * 1000) this.lose(`its lease could not be renewed for ${this.ttlSeconds} s`);
    }
  }

  /** Steps down (a fenced write was refused, a renewal failed); campaigns again after a TTL. */
  lose(why: string): void {
    if (this.keeper === undefined) return;
    clearInterval(this.keeper);
    this.keeper = undefined;
    const lease = this.lease;
    this.lease = "0";
    void this.etcd.revokeLease(lease).catch(() => undefined);
    this.log.warn("stepped down", { why });
    this.callbacks.follow(why);
    this.schedule(this.ttlSeconds * 1000);
  }

  /** Gives leadership up (a manager that stops): the others can campaign at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.campaigner);
    if (this.keeper === undefined) return;
    clearInterval(this.keeper);
    this.keeper = undefined;
    await this.etcd.revokeLease(this.lease).catch(() => undefined);
  }
}
