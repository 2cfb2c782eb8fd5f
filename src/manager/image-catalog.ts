import type { NodeImages } from "../model/api-types.ts";

/**
 * An image reference as engines list it: `busybox` is `busybox:latest`, and Docker Hub's own
 * prefixes (`docker.io/`, `library/`) are left out, as `docker images` shows them.
 * @example imageRef("docker.io/library/busybox") // "busybox:latest"
 */
export function imageRef(image: string): string {
  const short = image.replace(/^docker\.io\//, "").replace(/^library\//, "");
  if (short.startsWith("sha256:") || short.includes("@")) return short;
  const lastSegment = short.slice(short.lastIndexOf("/") + 1);
  return lastSegment.includes(":") ? short : `${short}:latest`;
}

/** Where a group's tasks may go for their image: only the nodes that have it, and why the others may not. */
export interface ImageLimit {
  nodes: ReadonlySet<string>;
  reason: string;
}

interface Inventory {
  digest: string;
  refs: Set<string>;
  unpullable: NodeImages["unpullable"];
}

/**
 * The images each node's engine holds, as workers report them (in memory, like heartbeats: a worker
 * reports again when the manager no longer holds its digest), and the images some node failed to pull.
 * An image no node has and one node could not pull is taken as one no registry can supply: its tasks
 * are placed only where it is (`cube image push` puts it there), and stay pending with that reason
 * until then. `gained` is called when a node got an image, so tasks waiting for one are placed.
 */
export class ImageCatalog {
  private readonly byNode = new Map<string, Inventory>();

  constructor(private readonly gained: () => void) {}

  /** What the node's worker reported; the digest the manager holds for it afterwards. */
  report(nodeId: string, images: NodeImages): string {
    const before = this.byNode.get(nodeId);
    const refs = new Set(images.refs.map(imageRef));
    this.byNode.set(nodeId, { digest: images.digest, refs, unpullable: images.unpullable });
    if ([...refs].some((ref) => !before?.refs.has(ref))) this.gained();
    return images.digest;
  }

  /** The digest of the node's inventory as held here, null before its worker reported one. */
  digestOf(nodeId: string): string | null {
    return this.byNode.get(nodeId)?.digest ?? null;
  }

  /** A push loaded these into the node's engine: known at once, before its worker reports them. */
  loaded(nodeId: string, refs: readonly string[]): void {
    const inventory = this.byNode.get(nodeId) ?? { digest: "", refs: new Set<string>(), unpullable: [] };
    for (const ref of refs) inventory.refs.add(imageRef(ref));
    // Not the worker's digest any more: its next heartbeat sends the list from its engine.
    inventory.digest = "";
    this.byNode.set(nodeId, inventory);
    this.gained();
  }

  /**
   * Null when the image's tasks may go to any node (no node failed to pull it lately: workers report
   * a failed pull for 10 minutes); else the nodes that have it (perhaps none) and why the others cannot run it.
   */
  limitFor(image: string): ImageLimit | null {
    const ref = imageRef(image);
    let failure: NodeImages["unpullable"][number] | undefined;
    for (const inventory of this.byNode.values()) {
      for (const f of inventory.unpullable) if (imageRef(f.image) === ref && (!failure || f.at > failure.at)) failure = f;
    }
    if (!failure) return null;
    const nodes = new Set([...this.byNode].filter(([, inventory]) => inventory.refs.has(ref)).map(([nodeId]) => nodeId));
    return { nodes, reason: `image ${image} is not on this node and cannot be pulled (${failure.message}); push it with cube image push ${image}` };
  }
}
