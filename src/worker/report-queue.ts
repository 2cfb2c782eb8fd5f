import type { ApiClient } from "../client/api-client.ts";
import { ApiClientError } from "../client/api-client.ts";
import { Backoff } from "../lib/backoff.ts";
import type { Logger } from "../lib/logger.ts";
import { MAX_REPORTS_PER_REQUEST, type TaskReport, type TaskReportItem } from "../model/api-types.ts";

/**
 * Sends task reports to the manager in the order they happened, at once: one request at a time,
 * carrying everything queued meanwhile (up to MAX_REPORTS_PER_REQUEST), which the manager applies in
 * order. While the manager is unreachable (or fails) the same batch is retried, so no report is lost
 * and none overtakes another. A report the manager refuses (the task moved on, or is gone) is dropped:
 * the next assignment poll brings the truth.
 */
export class ReportQueue {
  private readonly queue: TaskReportItem[] = [];
  private sending = false;
  private closed = false;
  private idle: (() => void)[] = [];
  /** Ends a wait between retries early. */
  private wake = new AbortController();

  constructor(
    private readonly client: ApiClient,
    private readonly nodeId: () => string,
    private readonly log: Logger,
  ) {}

  push(taskId: string, report: TaskReport): void {
    if (this.closed) return;
    this.queue.push({ taskId, ...report });
    if (this.sending) return;
    this.sending = true;
    // After the current task, so the reports pushed together (one reconcile of the assignments) go together.
    queueMicrotask(() => void this.drain());
  }

  /** Resolves when everything queued so far was sent or dropped. */
  flushed(): Promise<void> {
    if (!this.sending && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.retryNow();
  }

  /** The manager answers again: a batch waiting to be retried goes now. */
  retryNow(): void {
    this.wake.abort();
    this.wake = new AbortController();
  }

  private async drain(): Promise<void> {
    const backoff = new Backoff();
    while (this.queue.length > 0 && !this.closed) {
      const batch = this.queue.slice(0, MAX_REPORTS_PER_REQUEST);
      try {
        const results = await this.client.reportTasks(this.nodeId(), batch);
        this.queue.splice(0, batch.length);
        backoff.reset();
        for (const r of results) if (!r.ok) this.log.debug("report refused", { task: r.taskId, reason: r.error.message });
      } catch (err) {
        // The whole request refused (a malformed batch, an unknown node): sending it again would not help.
        if (err instanceof ApiClientError && err.status >= 400 && err.status < 500) {
          this.log.warn("reports refused", { reports: batch.length, reason: err.message });
          this.queue.splice(0, batch.length);
          continue;
        }
        this.log.warn("reports not delivered, retrying", { reports: batch.length, error: (err as Error).message, retryInMs: backoff.delayMs });
        await backoff.wait(this.wake.signal);
      }
    }
    this.sending = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }
}
