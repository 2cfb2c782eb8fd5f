/**
 * The manager's work between requests (evaluation passes, report group commits) runs one unit per
 * turn of the event loop, the units taking turns: the requests that arrived meanwhile are served
 * between two units, so an API call waits behind one of them at most, not behind every kind of work
 * due in that turn.
 * @example const turns = new Turns(); turns.request(drain); … turns.stop();
 */
export class Turns {
  private readonly waiting = new Set<() => void>();
  private scheduled: ReturnType<typeof setImmediate> | null = null;
  private stopped = false;

  /** Runs `unit` in a turn of its own, soon (after the units already waiting); a unit waiting already is not queued twice. */
  request(unit: () => void): void {
    if (this.stopped) return;
    this.waiting.add(unit);
    this.schedule();
  }

  /** Forgets the unit if it waits. */
  cancel(unit: () => void): void {
    this.waiting.delete(unit);
  }

  stop(): void {
    this.stopped = true;
    this.waiting.clear();
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.size === 0) return;
    // A setImmediate set from one runs in the next turn, after the timers and I/O that came due.
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      const [unit] = this.waiting;
      if (unit) {
        this.waiting.delete(unit);
        try {
          unit();
        } finally {
          this.schedule();
        }
      }
    });
  }
}
