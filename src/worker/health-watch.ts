import type { Driver } from "../driver/driver.ts";
import type { HealthCheck } from "../model/job.ts";

export interface HealthTarget {
  containerId: string;
  hostPorts: Record<string, number>;
}

/** One probe: null when healthy, else why not. */
export async function probeOnce(check: HealthCheck, target: HealthTarget, driver: Driver): Promise<string | null> {
  if (check.kind === "exec") {
    const result = await driver.exec(target.containerId, check.command, check.timeoutMs).catch((err: Error) => ({ exitCode: -1, output: err.message }));
    return result.exitCode === 0 ? null : `command exited ${result.exitCode}${result.output ? `: ${result.output.trim().slice(0, 200)}` : ""}`;
  }
  const port = target.hostPorts[check.port];
  if (port === undefined) return `port ${check.port} is not bound on the host`;
  if (check.kind === "tcp") return tcpProbe(port, check.timeoutMs);
  try {
    const response = await fetch(`http://127.0.0.1:${port}${check.path}`, { signal: AbortSignal.timeout(check.timeoutMs), redirect: "manual" });
    await response.body?.cancel();
    return response.status < 400 ? null : `GET ${check.path} answered HTTP ${response.status}`;
  } catch (err) {
    return `GET ${check.path} on port ${port}: ${(err as Error).name === "TimeoutError" ? `no answer within ${check.timeoutMs} ms` : (err as Error).message}`;
  }
}

function tcpProbe(port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(`no TCP connection to port ${port} within ${timeoutMs} ms`), timeoutMs);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          clearTimeout(timer);
          socket.end();
          resolve(null);
        },
        connectError(_socket, err) {
          clearTimeout(timer);
          resolve(`TCP connection to port ${port} failed: ${err.message}`);
        },
        data() {},
      },
    }).catch((err: Error) => {
      clearTimeout(timer);
      resolve(`TCP connection to port ${port} failed: ${err.message}`);
    });
  });
}

/**
 * Probes a task's container every interval. It calls onHealthy after the first pass, and resolves
 * `unhealthy` after `failures` consecutive failures (then stops probing): one failed probe is not
 * enough to restart anything, and none counts within the check's grace after the start.
 */
export class HealthWatch {
  readonly unhealthy: Promise<string>;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private failures = 0;
  private healthy = false;
  /** Failed probes before this time do not count (the check's grace: the task is still starting). */
  private readonly graceUntil: number;
  private resolveUnhealthy!: (reason: string) => void;

  constructor(
    private readonly check: HealthCheck,
    private readonly target: HealthTarget,
    private readonly driver: Driver,
    private readonly onHealthy: () => void,
  ) {
    this.unhealthy = new Promise((resolve) => (this.resolveUnhealthy = resolve));
    this.graceUntil = Date.now() + (check.graceMs ?? 0);
    // The first probe comes soon, so a healthy task is known healthy quickly.
    this.schedule(Math.min(check.intervalMs, 1_000));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.probe(), delayMs);
  }

  private async probe(): Promise<void> {
    const reason = await probeOnce(this.check, this.target, this.driver);
    if (this.stopped) return;
    if (reason === null) {
      this.failures = 0;
      if (!this.healthy) {
        this.healthy = true;
        this.onHealthy();
      }
    } else if (Date.now() >= this.graceUntil && ++this.failures >= this.check.failures) {
      this.stop();
      this.resolveUnhealthy(`health check failed ${this.failures} times: ${reason}`);
      return;
    }
    this.schedule(this.check.intervalMs);
  }
}
