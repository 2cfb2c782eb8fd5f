/**
 * Samples how long one GET takes while something else loads the server: one request at a time,
 * started every `everyMs` (or right after the last one, if that took longer), timed until the whole
 * body has arrived.
 */
export class LatencySampler {
  readonly timesMs: number[] = [];
  /** When each of timesMs' requests was sent (Date.now()), in the same order. */
  readonly sentAt: number[] = [];
  errors = 0;
  largestBodyBytes = 0;
  private stopped = false;
  private wake: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const started = performance.now();
      const sentAt = Date.now();
      try {
        const response = await fetch(this.url, { headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(120_000) });
        const body = await response.arrayBuffer();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        this.timesMs.push(performance.now() - started);
        this.sentAt.push(sentAt);
        this.largestBodyBytes = Math.max(this.largestBodyBytes, body.byteLength);
      } catch {
        this.errors++;
      }
      const rest = this.everyMs - (performance.now() - started);
      if (rest > 0 && !this.stopped) await new Promise<void>((resolve) => ((this.wake = resolve), (this.timer = setTimeout(resolve, rest))));
    }
  }
}

/** The times of the samples sent in [from, to) (Date.now() values). */
export function sentBetween(sampler: Pick<LatencySampler, "timesMs" | "sentAt">, from: number, to: number): number[] {
  return sampler.timesMs.filter((_, i) => (sampler.sentAt[i] as number) >= from && (sampler.sentAt[i] as number) < to);
}

/** The nearest-rank percentile (0 < p ≤ 1) of unsorted values; null when there are none. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}

/**
 * A LatencySampler in a thread of its own, so what it times is the server's answer and not how busy
 * the bench's own thread is: bench/fleet.ts submits thousands of jobs a second from that thread.
 */
export class ThreadedSampler {
  timesMs: number[] = [];
  sentAt: number[] = [];
  errors = 0;
  largestBodyBytes = 0;
  private readonly worker: Worker;

  constructor(url: string, token: string, everyMs: number) {
    this.worker = new Worker(new URL("./latency-sampler-thread.ts", import.meta.url).href);
    this.worker.postMessage({ url, token, everyMs });
  }

  start(): void {
    this.worker.postMessage("start");
  }

  async stop(): Promise<void> {
    const results = new Promise<Pick<LatencySampler, "timesMs" | "sentAt" | "errors" | "largestBodyBytes">>((resolve) => this.worker.addEventListener("message", (event) => resolve(event.data), { once: true }));
    this.worker.postMessage("stop");
    Object.assign(this, await results);
    this.worker.terminate();
  }
}
