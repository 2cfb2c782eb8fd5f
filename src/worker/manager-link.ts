import { type ApiClient, ApiClientError } from "../client/api-client.ts";
import { AssignmentFeed } from "../client/assignment-feed.ts";
import { Backoff } from "../lib/backoff.ts";
import type { Logger } from "../lib/logger.ts";
import type { Assignment, NodeEvent, NodeImages } from "../model/api-types.ts";
import type { NodeStats } from "../model/node.ts";

/** How long the manager may hold an assignment long-poll before answering "no change". */
const WATCH_WAIT_MS = 30_000;
/** Events kept while the manager is unreachable; older ones are dropped first. */
const MAX_PENDING_EVENTS = 100;

export interface ManagerLinkOptions {
  client: ApiClient;
  nodeId: () => string;
  heartbeatIntervalMs: number;
  stats: () => Promise<NodeStats>;
  /** Makes the node's containers match; the watch asks again once it returns. */
  onAssignments: (assignments: Assignment[]) => Promise<void>;
  /** The manager no longer knows this node (404) or its credential (401): join again. */
  rejoin: () => Promise<void>;
  /** The manager answers heartbeats again after failing to. */
  reconnected: () => void;
  /** The node's images; sent with a heartbeat when they differ from what the manager said it holds. */
  images?: () => NodeImages | null;
  log: Logger;
}

const refusedIdentity = (err: unknown) => err instanceof ApiClientError && (err.status === 404 || err.status === 401);

/**
 * The worker's two conversations with the manager: heartbeats, and the long-poll on its assignments.
 * Every wait has a deadline. A failed heartbeat also re-opens the watch, whose connection may have died
 * without a word (a network partition); the first heartbeat that gets through again wakes the watch at
 * once, so tasks the manager moved away meanwhile are stopped within a heartbeat of the network healing.
 */
export class ManagerLink {
  private readonly stopped = new AbortController();
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private heartbeatInFlight = false;
  private heartbeatFailing = false;
  private lastContact = Date.now();
  /** Aborts the current long-poll. */
  private watchAttempt: AbortController | null = null;
  /** Aborts the watch's wait between attempts; `nudged` covers a nudge that came before the wait began. */
  private wake = new AbortController();
  private nudged = false;
  private watchLoop: Promise<void> = Promise.resolve();
  private pendingEvents: NodeEvent[] = [];
  /** The digest of the images the manager last said it holds for this node. */
  private imagesKnown: string | null = null;

  constructor(private readonly options: ManagerLinkOptions) {}

  /** Time since the manager last answered this worker. */
  get silentForMs(): number {
    return Date.now() - this.lastContact;
  }

  /** A heartbeat that takes longer than this has failed: twice the interval, within 1–10 s. */
  private get heartbeatTimeoutMs(): number {
    return Math.min(10_000, Math.max(1_000, 2 * this.options.heartbeatIntervalMs));
  }

  start(): void {
    this.lastContact = Date.now();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.options.heartbeatIntervalMs);
    this.watchLoop = this.watch();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.watchLoop;
  }

  /** Something the worker did on its own, sent with the next heartbeat for the cluster's event stream. */
  record(message: string, task?: string): void {
    this.pendingEvents.push({ at: Date.now(), message, ...(task ? { task } : {}) });
    if (this.pendingEvents.length > MAX_PENDING_EVENTS) this.pendingEvents.shift();
  }

  private contact(): void {
    this.lastContact = Date.now();
  }

  private async heartbeat(): Promise<void> {
    // One at a time: a manager that is slow to answer must not pile requests up.
    if (this.heartbeatInFlight || this.stopped.signal.aborted) return;
    this.heartbeatInFlight = true;
    const events = this.pendingEvents;
    this.pendingEvents = [];
    try {
      const images = this.options.images?.();
      const send = images && images.digest !== this.imagesKnown ? { images } : {};
      const answer = await this.options.client.heartbeat(this.options.nodeId(), { stats: await this.options.stats(), ...(events.length ? { events } : {}), ...send }, this.heartbeatTimeoutMs);
      this.imagesKnown = answer.images ?? null;
      this.contact();
      if (this.heartbeatFailing) {
        this.heartbeatFailing = false;
        this.options.log.info("manager reachable again");
        this.nudge();
        this.options.reconnected();
      }
    } catch (err) {
      this.pendingEvents = [...events, ...this.pendingEvents].slice(-MAX_PENDING_EVENTS);
      if (refusedIdentity(err)) {
        await this.options.rejoin().catch((e: Error) => this.options.log.error("re-register failed", { error: e.message }));
        return;
      }
      if (!this.heartbeatFailing) this.options.log.warn("heartbeat failed; re-opening the assignment watch", { error: (err as Error).message });
      this.heartbeatFailing = true;
      this.watchAttempt?.abort();
    } finally {
      this.heartbeatInFlight = false;
    }
  }

  /** The client moved to another manager: the long-poll held by the old one is re-opened there now, and waiting reports go there at once. */
  managerChanged(from: string, to: string): void {
    this.options.log.warn("moving to another manager", { from, to });
    this.watchAttempt?.abort();
    this.nudge();
    this.options.reconnected();
  }

  /** Cuts the watch's wait between attempts short: the manager answers again. */
  private nudge(): void {
    this.nudged = true;
    this.wake.abort();
    this.wake = new AbortController();
  }

  private async watch(): Promise<void> {
    const { client, log } = this.options;
    const backoff = new Backoff();
    const feed = new AssignmentFeed(client);
    let index = "";
    while (!this.stopped.signal.aborted) {
      const attempt = new AbortController();
      this.watchAttempt = attempt;
      try {
        const response = await feed.next(this.options.nodeId(), index, WATCH_WAIT_MS, AbortSignal.any([this.stopped.signal, attempt.signal]));
        this.contact();
        index = response.index;
        backoff.reset();
        await this.options.onAssignments(response.assignments);
        continue;
      } catch (err) {
        if (this.stopped.signal.aborted) return;
        if (refusedIdentity(err)) await this.options.rejoin().catch(() => undefined);
        // An attempt aborted by a failed heartbeat was expected to fail; the heartbeat said why.
        else if (!attempt.signal.aborted) log.warn("assignment watch failed, retrying", { error: (err as Error).message, retryInMs: backoff.delayMs });
      }
      if (this.nudged) {
        this.nudged = false;
        backoff.reset();
        continue;
      }
      await backoff.wait(AbortSignal.any([this.stopped.signal, this.wake.signal]));
      this.nudged = false;
    }
  }
}
