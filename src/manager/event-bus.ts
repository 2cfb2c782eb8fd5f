import type { ClusterEvent } from "../model/api-types.ts";
import type { NewEvent } from "./change-set.ts";

export type { ClusterEvent };

type Listener = (event: ClusterEvent) => void;

/** Events filtered by job, node (id), task (id or prefix) and type; an absent filter matches all. */
export interface EventFilter {
  job?: string;
  node?: string;
  task?: string;
  type?: string;
}

export function matchesEvent(event: ClusterEvent, filter: EventFilter): boolean {
  if (filter.job !== undefined && event.job !== filter.job) return false;
  if (filter.node !== undefined && event.node !== filter.node) return false;
  if (filter.task !== undefined && !event.task?.startsWith(filter.task)) return false;
  return filter.type === undefined || event.type === filter.type;
}

/** Events kept for `GET /v1/events/history`. */
export const HISTORY_SIZE = 10_000;

/**
 * In-process fan-out of cluster events, each numbered as it is published; the last HISTORY_SIZE are
 * kept in a ring for the history. A slow or throwing listener never blocks the writer.
 */
export class EventBus {
  private readonly listeners = new Set<Listener>();
  private readonly ring: ClusterEvent[] = [];
  /** Where the oldest kept event is in `ring`, once it is full. */
  private start = 0;
  private published = 0;

  constructor(private readonly size = HISTORY_SIZE) {}

  publish(fields: NewEvent): ClusterEvent {
    const event: ClusterEvent = { index: ++this.published, ...fields };
    if (this.ring.length < this.size) this.ring.push(event);
    else {
      this.ring[this.start] = event;
      this.start = (this.start + 1) % this.size;
    }
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure is its own; the state change already happened.
      }
    }
    return event;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Up to `limit` kept events matching the filter with an index above `after`, oldest first. */
  history(filter: EventFilter, after: number, limit: number): ClusterEvent[] {
    const out: ClusterEvent[] = [];
    const n = this.ring.length;
    const oldest = (this.ring[this.start] as ClusterEvent | undefined)?.index ?? 1;
    // Indexes are consecutive in the ring, so the first one after `after` is found without a scan.
    for (let k = Math.max(0, after - oldest + 1); k < n && out.length < limit; k++) {
      const event = this.ring[(this.start + k) % n] as ClusterEvent;
      if (matchesEvent(event, filter)) out.push(event);
    }
    return out;
  }
}
