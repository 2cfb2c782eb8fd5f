import { newId } from "../lib/ids.ts";

/**
 * Per-node change counters that workers long-poll on. The index carries this process's epoch, so a
 * worker holding an index from before a manager restart gets a fresh answer at once instead of waiting.
 */
export class AssignmentWatch {
  private readonly epoch = newId().slice(0, 8);
  private readonly counters = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();

  current(nodeId: string): string {
    return `${this.epoch}.${this.counters.get(nodeId) ?? 0}`;
  }

  /** Marks a node's assignments as changed and wakes everyone waiting on it. */
  bump(nodeId: string): void {
    this.counters.set(nodeId, (this.counters.get(nodeId) ?? 0) + 1);
    const waiting = this.waiters.get(nodeId);
    if (!waiting) return;
    this.waiters.delete(nodeId);
    for (const wake of waiting) wake();
  }

  /** Resolves when the node's index differs from `index`, or after timeoutMs, or when signal aborts. */
  wait(nodeId: string, index: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (index !== this.current(nodeId) || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.waiters.get(nodeId)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done);
      let set = this.waiters.get(nodeId);
      if (!set) this.waiters.set(nodeId, (set = new Set()));
      set.add(done);
    });
  }
}
