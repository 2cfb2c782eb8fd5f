import type { Worker as BunWorker } from "bun";

/** How often the background thread copies the write-ahead log into the database. */
export const CHECKPOINT_EVERY_MS = 1_000;

/**
 * Runs in a thread of its own, with its own connection: a checkpoint copies the write-ahead log into
 * the database and syncs it to disk, which takes milliseconds to (on a busy disk) hundreds of them.
 * PASSIVE never waits for the writer, which goes on appending to the log meanwhile. Kept as source
 * text so the compiled binary needs no extra entry point for it.
 */
const WORKER_SOURCE = `
import { Database } from "bun:sqlite";
let db = null;
let timer = null;
self.onmessage = ({ data }) => {
  if (data.path) {
    db = new Database(data.path);
    db.run("PRAGMA busy_timeout = 5000");
    db.run("PRAGMA synchronous = NORMAL");
    timer = setInterval(() => {
      try {
        db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
      } catch {
        // Busy or failing now: the next tick tries again, and the log only grows meanwhile.
      }
    }, data.everyMs);
    return;
  }
  clearInterval(timer);
  db?.close();
  postMessage("closed");
};
`;

export interface Checkpointer {
  /** Resolves once the thread closed its connection (or was ended after a grace period). */
  stop(): Promise<void>;
}

/**
 * Takes WAL checkpoints off the caller's thread: the caller turns its own automatic checkpoints off
 * (`PRAGMA wal_autocheckpoint = 0`), so a commit never stalls on copying pages and syncing the file.
 * @example const checkpoints = startCheckpointer("/var/lib/cube/cube.db"); … await checkpoints.stop();
 */
export function startCheckpointer(path: string, everyMs = CHECKPOINT_EVERY_MS): Checkpointer {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
  // Bun's Worker (with unref), which the DOM's type does not describe.
  const worker = new Worker(url) as unknown as BunWorker;
  worker.unref();
  worker.postMessage({ path, everyMs });
  return {
    stop() {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          worker.terminate();
          URL.revokeObjectURL(url);
          resolve();
        };
        // A worker that does not answer is ended anyway: closing must not hang.
        const timer = setTimeout(done, 2_000);
        worker.onmessage = done;
        worker.postMessage({});
      });
    },
  };
}
