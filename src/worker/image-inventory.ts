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
 */
export class ImageInventory {
  private refs: string[] = [];
  private listedAt = 0;
  private readonly failures = new Map<string, { message: string; at: number }>();

  constructor(
    private readonly engine: Pick<ImageEngine, "images">,
    private readonly log: Logger,
  ) {}

  /** A task's image could not be had: not on the engine, and its pull failed. */
  pullFailed(image: string, message: string): void {
    this.failures.set(image, { message, at: Date.now() });
  }

  /** The engine's images changed (an image was loaded): read them again at the next report. */
  changed(): void {
    this.listedAt = 0;
  }

  /** The inventory as the manager is told it, with a digest that changes with it; null while the engine does not answer. */
  async report(): Promise<NodeImages | null> {
    const now = Date.now();
    if (now - this.listedAt >= LIST_EVERY_MS) {
      try {
        this.refs = (await this.engine.images()).sort();
        this.listedAt = now;
      } catch (err) {
        this.log.warn("cannot list the engine's images", { error: (err as Error).message });
        return null;
      }
    }
    const present = new Set(this.refs);
    for (const [image, failure] of this.failures) if (now - failure.at > PULL_FAILURE_TTL_MS || present.has(image)) this.failures.delete(image);
    const unpullable = [...this.failures].map(([image, f]) => ({ image, ...f }));
    const digest = createHash("sha256").update(JSON.stringify([this.refs, unpullable.map((f) => f.image)])).digest("hex");
    return { digest, refs: this.refs, unpullable };
  }
}
