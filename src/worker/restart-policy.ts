import type { RestartPolicy } from "../model/job.ts";

export type RestartDecision =
  | { restart: true; delayMs: number; attempt: number }
  | { restart: false; reason: string };

/**
 * Whether a task that just exited may be restarted, given the times of its earlier restarts.
 * At most `attempts` restarts per `interval`; each waits `delay`, doubled for every restart already
 * in the interval (capped at the interval). In `delay` mode an exhausted budget waits for the
 * interval's oldest restart to age out instead of failing.
 * @example decideRestart({ attempts: 2, intervalMs: 60_000, delayMs: 1_000, mode: "fail" }, [], 0) // { restart: true, delayMs: 1000, attempt: 1 }
 */
export function decideRestart(policy: RestartPolicy, restartTimes: readonly number[], now: number): RestartDecision {
  const recent = restartTimes.filter((t) => now - t < policy.intervalMs);
  if (recent.length < policy.attempts) {
    const delayMs = Math.min(policy.delayMs * 2 ** recent.length, Math.max(policy.delayMs, policy.intervalMs));
    return { restart: true, delayMs, attempt: recent.length + 1 };
  }
  if (policy.mode === "delay" && policy.attempts > 0) {
    const oldest = Math.min(...recent);
    return { restart: true, delayMs: Math.max(policy.delayMs, oldest + policy.intervalMs - now), attempt: policy.attempts };
  }
  return { restart: false, reason: `restart attempts exhausted (${policy.attempts} in ${Math.round(policy.intervalMs / 1000)}s)` };
}
