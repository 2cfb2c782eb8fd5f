import type { ApiClient } from "../../src/client/api-client.ts";
import type { JobDetail } from "../../src/model/api-types.ts";

/**
 * Polls `probe` until it returns a non-undefined value, or fails after timeoutMs with the last
 * value seen, so a failing test says what it was waiting for and what it got instead.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await Bun.sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
}

/** Waits until the job, as the API shows it, satisfies `done`; returns that view of it. */
export function jobWhen(client: ApiClient, name: string, what: string, done: (job: JobDetail) => boolean, timeoutMs = 30_000): Promise<JobDetail> {
  return waitFor(what, async () => {
    const job = await client.getJob(name);
    return done(job) ? job : undefined;
  }, timeoutMs);
}
