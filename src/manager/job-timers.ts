/** The longest a timer waits (setTimeout's limit, 2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One wake-up per job for what changes by time alone (a failed slot's reschedule delay, a rollout's
 * health deadline): when it is due, the job is marked for evaluation. Each evaluation sets the job's
 * next wake-up, or clears it.
 */
export class JobTimers {
  private readonly timers = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  private stopped = false;

  constructor(
    private readonly due: (job: string) => void,
    private readonly now: () => number,
  ) {}

  set(job: string, at: number | null): void {
    const current = this.timers.get(job);
    if (current?.at === at) return;
    if (current) clearTimeout(current.timer);
    this.timers.delete(job);
    if (at === null || this.stopped) return;
    // A wake-up further off than a timer can wait (a yearly schedule) fires early; the evaluation then sets it again.
    const timer = setTimeout(() => this.fire(job), Math.min(MAX_TIMER_MS, Math.max(0, at - this.now())));
    this.timers.set(job, { at, timer });
  }

  /** Marks every job whose wake-up is due by the clock now (for tests that move a clock of their own). */
  fireDue(): void {
    const now = this.now();
    for (const [job, { at }] of this.timers) if (at <= now) this.fire(job);
  }

  stop(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private fire(job: string): void {
    const current = this.timers.get(job);
    if (current) clearTimeout(current.timer);
    this.timers.delete(job);
    this.due(job);
  }
}
