import { createHash } from "node:crypto";
import type { ImageEngine } from "../driver/driver.ts";
import type { Logger } from "../lib/logger.ts";
import type { NodeImages } from "../model/api-types.ts";

/** The engine's image list is read again at most this often (a heartbeat asks every few seconds). */
const LIST_EVERY_MS = 10_000;
/** A failed pull is reported this long; then the image may be tried again (a registry may come back). */
export const PULL_FAILURE_TTL_MS = 10 * 60_000;

/**
 * What this node's engine has, for the manager's scheduler: the images (ids and references, read from
 * the engine now and then, and at once after a load) and the images it failed to pull lately.
 * Reading it never waits for the engine, so a slow engine cannot hold a heartbeat up: the list is
 * read again in the background and the last one is what is reported.
 */
export class ImageInventory {
  private refs: string[] | null = null;
  private listedAt = 0;
  private listing: Promise<void> | null = null;
  /** The engine changed while a listing was under way: that listing may predate it, so list again after it. */
  private listAgain = false;
  private readonly failures = new Map<string, { message: string; at: number }>();

  constructor(
    private readonly engine: Pick<ImageEngine, "images">,
    private readonly log: Logger,
  ) {}

  /** A task's image could not be had: not on the engine, and its pull failed. */
  pullFailed(image: string, message: string): void {
    this.failures.set(image, { message, at: Date.now() });
  }

  /** The engine's images changed (an image was loaded): read them again now. */
  changed(): void {
    if (this.listing) this.listAgain = true;
    else this.refresh();
  }

  /** The inventory as the manager is told it, with a digest that changes with it; null until the engine has answered once. */
  report(): NodeImages | null {
    const now = Date.now();
    if (now - this.listedAt >= LIST_EVERY_MS) this.refresh();
    if (this.refs === null) return null;
    const present = new Set(this.refs);
    for (const [image, failure] of this.failures) if (now - failure.at > PULL_FAILURE_TTL_MS || present.has(image)) this.failures.delete(image);
    const unpullable = [...this.failures].map(([image, f]) => ({ image, ...f }));
    const digest = createHash("sha256").update(JSON.stringify([this.refs, unpullable.map((f) => f.image)])).digest("hex");
    return { digest, refs: this.refs, unpullable };
  }

  private refresh(): void {
    this.listing ??= this.engine
      .images()
      .then((refs) => {
        this.refs = refs.sort();
        this.listedAt = Date.now();
      })
      .catch((err: Error) => this.log.warn("cannot list the engine's images", { error: err.message }))
      .finally(() => {
        this.listing = null;
        if (this.listAgain) {
          this.listAgain = false;
          this.refresh();
        }
      });
  }
}
