/** How late the manager's event loop ran, over one window of a run: p99 and max of its delays. */
export interface LoopLag {
  p99Ms: number;
  maxMs: number;
}

const round1 = (seconds: number) => Math.round(seconds * 10_000) / 10;

function gauge(text: string, name: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  const value = line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
  return Number.isFinite(value) ? value : null;
}

/**
 * Reads the manager's event-loop delay from its /metrics (prom-client's `nodejs_eventloop_lag_*`,
 * measured by `monitorEventLoopDelay`). Its histogram starts at the first scrape and starts again at
 * each one, so a scrape ends one window of the run and begins the next; the first answers null.
 * A request the API's front thread passes to the manager's thread waits behind the same delays.
 */
export async function scrapeLoopLag(url: string, token: string): Promise<LoopLag | null> {
  try {
    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
    if (!response.ok) return null;
    const text = await response.text();
    const p99 = gauge(text, "nodejs_eventloop_lag_p99_seconds");
    const max = gauge(text, "nodejs_eventloop_lag_max_seconds");
    // A histogram that recorded nothing yet (the first scrape) reports 0.
    return p99 === null || max === null || p99 === 0 ? null : { p99Ms: round1(p99), maxMs: round1(max) };
  } catch {
    return null;
  }
}
