import type { ApiClient } from "../client/api-client.ts";
import { ApiClientError } from "../client/api-client.ts";
import type { Logger } from "../lib/logger.ts";
import type { TaskReport } from "../model/api-types.ts";

/**
 * Sends task reports to the manager in the order they happened, at once, retrying while the
 * manager is unreachable. A report the manager refuses (the task moved on, or is gone) is dropped:
 * the next assignment poll brings the truth.
 */
export class ReportQueue {
  private readonly queue: { taskId: string; report: TaskReport }[] = [];
  private sending = false;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly client: ApiClient,
    private readonly nodeId: () => string,
    private readonly log: Logger,
  ) {}

  push(taskId: string, report: TaskReport): void {
    if (this.closed) return;
    this.queue.push({ taskId, report });
    if (!this.sending) void this.drain();
  }

  /** Resolves when everything queued so far was sent or dropped. */
  flushed(): Promise<void> {
    if (!this.sending && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  close(): void {
    this.closed = true;
  }

  private async drain(): Promise<void> {
    this.sending = true;
    let delay = 250;
    while (this.queue.length > 0 && !this.closed) {
      const head = this.queue[0] as { taskId: string; report: TaskReport };
      try {
        await this.client.reportTask(this.nodeId(), head.taskId, head.report);
        this.queue.shift();
        delay = 250;
      } catch (err) {
        if (err instanceof ApiClientError && err.status >= 400 && err.status < 500) {
          this.log.debug("report refused", { task: head.taskId, state: head.report.state, reason: err.message });
          this.queue.shift();
          continue;
        }
        this.log.warn("report not delivered, retrying", { task: head.taskId, error: (err as Error).message });
        await Bun.sleep(delay);
        delay = Math.min(delay * 2, 5_000);
      }
    }
    this.sending = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }
}
