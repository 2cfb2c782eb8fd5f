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

/**
 * Lets at most `perTurn` waiters go on per turn of the event loop (a unit of Turns): a burst of
 * woken long-polls, all due at the same moment, is answered over a few turns instead of all in one.
 * @example await gate.pass(); // then build the answer
 */
export class TurnGate {
  private readonly waiting: (() => void)[] = [];
  private opened = false;
  private readonly release = () => {
    for (const go of this.waiting.splice(0, this.perTurn)) go();
    if (this.waiting.length > 0) this.turns.request(this.release);
  };

  constructor(
    private readonly turns: Turns,
    private readonly perTurn: number,
  ) {}

  pass(): Promise<void> {
    if (this.opened) return Promise.resolve();
    return new Promise((go) => {
      this.waiting.push(go);
      this.turns.request(this.release);
    });
  }

  /** Lets every waiter go now, and every later one at once (the manager stops: no turns come). */
  open(): void {
    this.opened = true;
    for (const go of this.waiting.splice(0)) go();
  }
}
