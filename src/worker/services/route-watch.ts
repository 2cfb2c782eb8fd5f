import type { ApiClient } from "../../client/api-client.ts";
import { Backoff } from "../../lib/backoff.ts";
import type { Logger } from "../../lib/logger.ts";
import type { ServiceRoutes } from "../../model/api-types.ts";

/** How long the manager may hold the routes long-poll; short, so a connection that died silently is replaced soon. */
const WATCH_WAIT_MS = 15_000;

export interface RouteWatchOptions {
  client: ApiClient;
  nodeId: () => string;
  /** Called with every catalog the manager answers (the same one again after a quiet wait). */
  onRoutes: (routes: ServiceRoutes) => void;
  log: Logger;
}

/**
 * The worker's long-poll on the service catalog (`GET /v1/nodes/:id/services`): answered at once
 * when it changes, with a deadline on every wait and a backoff while the manager is away (the last
 * catalog stays in force meanwhile).
 */
export class RouteWatch {
  private readonly stopped = new AbortController();
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly options: RouteWatchOptions) {}

  start(): void {
    this.loop = this.watch();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.loop;
  }

  private async watch(): Promise<void> {
    const { client, log } = this.options;
    const backoff = new Backoff();
    let index = "";
    let failing = false;
    while (!this.stopped.signal.aborted) {
      try {
        const routes = await client.serviceRoutes(this.options.nodeId(), index, WATCH_WAIT_MS, this.stopped.signal);
        if (failing) log.info("service catalog watch answered again");
        failing = false;
        index = routes.index;
        backoff.reset();
        this.options.onRoutes(routes);
        continue;
      } catch (err) {
        if (this.stopped.signal.aborted) return;
        if (!failing) log.warn("service catalog watch failed, retrying", { error: (err as Error).message, retryInMs: backoff.delayMs });
        failing = true;
      }
      await backoff.wait(this.stopped.signal);
    }
  }
}
