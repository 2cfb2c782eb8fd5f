/**
 * Resolves after ms, or at once when the signal aborts (never rejects), so a loop that waits between
 * attempts stops waiting the moment its owner stops it or has news.
 * @example await sleep(1_000, controller.signal)
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

export interface BackoffOptions {
  /** The first delay (default 250 ms). */
  initialMs?: number;
  /** No delay is longer than this (default 5 s). */
  maxMs?: number;
}

/**
 * Exponential backoff for a retry loop: each failure doubles the wait up to a ceiling, a success resets
 * it. The one retry schedule of the worker (joining, the assignment watch, reports, an absent engine).
 * @example const backoff = new Backoff(); for (;;) { try { await call(); backoff.reset(); } catch { await backoff.wait(signal); } }
 */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private nextMs: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 5_000;
    this.nextMs = this.initialMs;
  }

  /** The delay the next wait() will take. */
  get delayMs(): number {
    return this.nextMs;
  }

  /** Takes the current delay and doubles the next one (up to the ceiling); returns the delay taken. */
  next(): number {
    const delay = this.nextMs;
    this.nextMs = Math.min(this.nextMs * 2, this.maxMs);
    return delay;
  }

  /** Sleeps the next delay; an abort ends the sleep early. */
  wait(signal?: AbortSignal): Promise<void> {
    return sleep(this.next(), signal);
  }

  reset(): void {
    this.nextMs = this.initialMs;
  }
}
