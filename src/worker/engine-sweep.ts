import type { ContainerSummary, Driver } from "../driver/driver.ts";
import type { Logger } from "../lib/logger.ts";
import { type Holder, planSweep, type SweepAction } from "./sweep-plan.ts";

export interface EngineSweepOptions {
  driver: Driver;
  nodeId: () => string;
  /** Time between sweeps when nothing asks for one sooner. */
  intervalMs: number;
  stopTimeoutMs: number;
  holderOf: (taskId: string, containerId: string) => Holder;
  /** Hands the listing to the live runners, so one whose container vanished notices. */
  notice: (listing: ContainerSummary[], listedAt: number) => void;
  /** Called for every container the sweep stopped or removed. */
  acted: (action: SweepAction) => void;
  log: Logger;
}

/**
 * The worker's housekeeping pass, like the kubelet's: list what the engine holds for this node and
 * remove what no task runner owns. Messages can be lost or arrive out of order; this pass is what
 * makes "what runs" converge anyway. Sweeps never overlap; asking during one runs one more after it.
 */
export class EngineSweep {
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly options: EngineSweepOptions) {}

  /** Sweeps every interval from now on (idempotent); the first sweep comes with the next request() or tick. */
  start(): void {
    this.timer ??= setInterval(() => this.request(), this.options.intervalMs);
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.again = false;
    await this.running;
  }

  /** Asks for a sweep soon (after the current one, if one runs). */
  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.sweepOnce();
    } while (this.again && this.timer !== null);
  }

  /** One pass; an engine that does not answer is tried again at the next one. */
  async sweepOnce(): Promise<void> {
    const { driver, log } = this.options;
    const listedAt = Date.now();
    let listing: ContainerSummary[];
    try {
      listing = await driver.list(this.options.nodeId());
    } catch (err) {
      log.warn("engine sweep could not list containers", { error: (err as Error).message });
      return;
    }
    this.options.notice(listing, listedAt);
    for (const action of planSweep(listing, this.options.holderOf)) {
      try {
        await driver.stop(action.containerId, this.options.stopTimeoutMs);
        if (action.action === "remove") await driver.destroy(action.containerId);
        log.info(action.action === "remove" ? "removed a container no task owns" : "stopped the container of an ended task", { container: action.containerId.slice(0, 12), reason: action.reason });
        this.options.acted(action);
      } catch (err) {
        log.warn("engine sweep could not clean up a container", { container: action.containerId.slice(0, 12), error: (err as Error).message });
      }
    }
  }
}
