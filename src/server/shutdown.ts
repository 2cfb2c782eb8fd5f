import type { Logger } from "../lib/logger.ts";

/**
 * Runs `stop` once on SIGINT or SIGTERM, then exits. A second signal while stopping exits at once,
 * so a stuck shutdown can always be cut short.
 */
export function onShutdown(log: Logger, stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn("second signal, exiting now", { signal });
      process.exit(1);
    }
    stopping = true;
    log.info("shutting down", { signal });
    stop(signal).then(
      () => process.exit(0),
      (err: Error) => {
        log.error("shutdown failed", { error: err.message });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
}
