import type { ApiClient } from "../../src/client/api-client.ts";
import { TEST_IMAGE } from "./docker.ts";

export interface SubmitLoopResult {
  /** Jobs the managers acknowledged, with when (performance.now()). */
  acked: { name: string; at: number }[];
  /** The longest time without an acknowledged submit, from the loop's start to its end. */
  longestGapMs: number;
  failures: number;
}

/** A service job of no tasks: storing it is the whole point (the cluster does no work for it). */
export const emptyJob = (name: string) => JSON.stringify({ name, tasks: [{ name: "main", image: TEST_IMAGE, command: ["true"], count: 0 }] });

/**
 * Submits jobs `prefix-0`, `prefix-1`, … for `durationMs`, each to the next manager in turn; a submit
 * that fails goes to the next manager (a submit is idempotent), until acknowledged. Bounded in time:
 * it stops by itself. `during` runs alongside (the fault to inject) and is awaited too.
 */
export async function submitLoop(clients: ApiClient[], prefix: string, durationMs: number, during: () => Promise<void> = async () => {}): Promise<SubmitLoopResult> {
  const acked: { name: string; at: number }[] = [];
  let failures = 0;
  const started = performance.now();
  const loop = async () => {
    let turn = 0;
    for (let i = 0; performance.now() - started < durationMs; i++) {
      const name = `${prefix}-${i}`;
      while (performance.now() - started < durationMs) {
        const client = clients[turn++ % clients.length] as ApiClient;
        try {
          await client.submitJob(emptyJob(name), "json");
          acked.push({ name, at: performance.now() });
          break;
        } catch {
          failures++;
          await Bun.sleep(20);
        }
      }
      await Bun.sleep(25);
    }
  };
  await Promise.all([loop(), during()]);
  const ended = performance.now();
  const times = [started, ...acked.map((a) => a.at), ended];
  const longestGapMs = Math.max(...times.slice(1).map((t, i) => t - (times[i] as number)));
  return { acked, longestGapMs, failures };
}
