import { Turns } from "./turns.ts";

/** How long one pass may run before it lets the event loop serve requests, and goes on after. */
const PASS_BUDGET_MS = 1;

/**
 * The jobs waiting for evaluation (Nomad's evaluations, Kubernetes' work queue of keys): a job marked
 * several times before its turn is evaluated once, in the order it was first marked. One loop runs
 * the evaluations, one at a time, soon after a mark (in a turn of the event loop of its own, see Turns,
 * so the marks of a burst of requests coalesce); marks made during a pass are taken by the same pass,
 * within its time budget.
 */
export class EvalQueue {
  private readonly dirty = new Set<string>();
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
    return this.dirty.size;
  }

  mark(job: string): void {
    if (this.following) return;
    this.dirty.add(job);
    this.schedule();
  }

  /** The job is gone: nothing to evaluate. */
  forget(job: string): void {
    this.dirty.delete(job);
  }

  /** Evaluates marked jobs, those marked meanwhile included, until none is left or `budgetMs` has passed. */
  drain(budgetMs = Number.POSITIVE_INFINITY): void {
    if (this.running) return;
    if (this.dirty.size === 0) return this.wakeIdle();
    this.running = true;
    const until = performance.now() + budgetMs;
    try {
      this.pass(() => {
        for (const job of this.dirty) {
          this.dirty.delete(job);
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
    if (this.dirty.size > 0) this.schedule();
    else this.wakeIdle();
  }

  private wakeIdle(): void {
    for (const wake of this.idleWaiters) wake();
  }

  /** Resolves once no job waits for evaluation, or after `maxMs` (so a burst of placements is answered once, at its end). */
  idle(maxMs: number): Promise<void> {
    if (this.dirty.size === 0 && !this.running) return Promise.resolve();
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
