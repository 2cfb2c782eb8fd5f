import { Turns } from "./turns.ts";

/** How long one pass may run before it lets the event loop serve requests, and goes on after. */
const PASS_BUDGET_MS = 1;
/** Steps in a row a job that carries on (see `carryOn`) takes before the other marked jobs have their turn. */
const CARRY_ON_STEPS = 20;

/**
 * The jobs waiting for evaluation (Nomad's evaluations, Kubernetes' work queue of keys): a job marked
 * several times before its turn is evaluated once, in the order it was first marked. One loop runs
 * the evaluations, one at a time, soon after a mark (in a turn of the event loop of its own, see Turns,
 * so the marks of a burst of requests coalesce); marks made during a pass are taken by the same pass,
 * within its time budget.
 */
export class EvalQueue {
  private readonly dirty = new Set<string>();
  /** A job whose evaluation stopped at its step's limit, evaluated before the marked ones (see `carryOn`). */
  private carrying: string | null = null;
  /** The job that carried on last, and its steps in a row. */
  private streakOf: string | null = null;
  private streak = 0;
  private readonly idleWaiters = new Set<() => void>();
  private readonly nextPass = () => this.drain(PASS_BUDGET_MS);
  private running = false;
  private stopped = false;
  /** A manager that follows another evaluates nothing: marks are dropped (the leader resyncs every job when it starts to lead). */
  private following = false;

  constructor(
    private readonly evaluate: (job: string) => void,
    private readonly failed: (job: string, err: Error) => void,
    /** Runs a pass: the manager makes its commits one store transaction. */
    private readonly pass: (run: () => void) => void = (run) => run(),
    /** Shared with the manager's other work between requests. */
    private readonly turns: Turns = new Turns(),
  ) {}

  get size(): number {
    return this.dirty.size + (this.carrying !== null && !this.dirty.has(this.carrying) ? 1 : 0);
  }

  mark(job: string): void {
    if (this.following) return;
    this.dirty.add(job);
    this.schedule();
  }

  /**
   * The job's evaluation stopped at its step's limit with more to place: its next step comes first, up
   * to CARRY_ON_STEPS in a row, so the steps of one job's placement follow one another and each finds
   * the nodes its group holds still parked (ClusterIndex.park), not moved back and forth per step.
   */
  carryOn(job: string): void {
    if (this.following) return;
    this.streak = this.streakOf === job ? this.streak + 1 : 1;
    this.streakOf = job;
    if (this.streak > CARRY_ON_STEPS) {
      this.streakOf = null;
      return this.mark(job);
    }
    this.carrying = job;
    this.schedule();
  }

  /** The job is gone: nothing to evaluate. */
  forget(job: string): void {
    this.dirty.delete(job);
    if (this.carrying === job) this.carrying = null;
  }

  /** The job that carries on, else the first marked; taken off the queue. */
  private take(): string | undefined {
    const job = this.carrying ?? this.dirty.values().next().value;
    if (job === undefined) return undefined;
    if (job === this.carrying) this.carrying = null;
    this.dirty.delete(job);
    return job;
  }

  /** Evaluates marked jobs, those marked meanwhile included, until none is left or `budgetMs` has passed. */
  drain(budgetMs = Number.POSITIVE_INFINITY): void {
    if (this.running) return;
    if (this.size === 0) return this.wakeIdle();
    this.running = true;
    const until = performance.now() + budgetMs;
    try {
      this.pass(() => {
        for (let job = this.take(); job !== undefined; job = this.take()) {
          try {
            this.evaluate(job);
          } catch (err) {
            this.failed(job, err as Error);
          }
          if (performance.now() >= until) break;
        }
      });
    } finally {
      this.running = false;
    }
    if (this.size > 0) this.schedule();
    else this.wakeIdle();
  }

  private wakeIdle(): void {
    for (const wake of this.idleWaiters) wake();
  }

  /** Resolves once no job waits for evaluation, or after `maxMs` (so a burst of placements is answered once, at its end). */
  idle(maxMs: number): Promise<void> {
    if (this.size === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      this.idleWaiters.add(done);
    });
  }

  /** Stops evaluating (this manager follows another) or starts again (it leads). */
  follow(following: boolean): void {
    this.following = following;
    if (!following) return;
    this.dirty.clear();
    this.carrying = null;
    this.wakeIdle();
  }

  stop(): void {
    this.stopped = true;
    this.turns.cancel(this.nextPass);
    this.wakeIdle();
  }

  private schedule(): void {
    if (this.stopped || this.running) return;
    this.turns.request(this.nextPass);
  }
}
