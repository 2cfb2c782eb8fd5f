import { defineCommand } from "citty";
import type { ImageLoadResult } from "../model/api-types.ts";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { type NodePush, progressLines } from "./push-progress.ts";
import { repeatedFlag } from "./repeated-flag.ts";

/** How often a terminal's progress lines are drawn again. */
const REDRAW_MS = 200;

const push = defineCommand({
  meta: { name: "push", description: "Copy an image from this machine's Docker engine to the nodes' engines through the manager (no registry needed)" },
  args: {
    image: { type: "positional", description: "image reference, e.g. myapp:1.2", required: true },
    node: { type: "string", description: "only this node (name or id; repeatable); default: every ready, eligible node" },
    "docker-host": { type: "string", description: "the engine to read the image from (env DOCKER_HOST; default /var/run/docker.sock)" },
    ...clientArgs,
  },
  async run({ args, rawArgs }) {
    const { DockerDriver } = await import("../driver/docker/docker-driver.ts");
    const engine = new DockerDriver({ host: args["docker-host"] });
    const local = await engine.image(args.image);
    if (!local) throw new Error(`image ${args.image} is not in this machine's Docker engine (docker images lists what is; docker pull or docker build it first)`);
    const client = clientFrom(args);
    // Ask first: an engine that has this very image id is skipped.
    const { nodes } = await client.imageNodes(args.image, repeatedFlag(rawArgs, "node"));
    const pushes: NodePush[] = nodes.map((n) => ({ node: n.nodeName, sent: 0, state: n.id === local.id ? "skipped" : "sending", detail: n.id === local.id ? n.id.slice(7, 19) : "" }));
    const display = new ProgressDisplay(pushes, local.size, !args.json && process.stderr.isTTY === true);
    const results = await Promise.all(
      nodes.map(async (n, i): Promise<ImageLoadResult | null> => {
        const p = pushes[i] as NodePush;
        if (p.state === "skipped") return null;
        try {
          const archive = (await engine.saveImage(args.image)).pipeThrough(counter((bytes) => (p.sent += bytes)));
          const result = await client.loadImage(n.nodeId, archive);
          Object.assign(p, { state: "loaded", detail: result.loaded.join(", ") });
          return result;
        } catch (err) {
          Object.assign(p, { state: "failed", detail: (err as Error).message });
          return null;
        }
      }),
    );
    display.stop();
    if (args.json) printJson({ image: args.image, id: local.id, nodes: pushes.map((p, i) => ({ ...p, result: results[i] })) });
    const failed = pushes.filter((p) => p.state === "failed");
    if (failed.length > 0) throw new Error(`image ${args.image} did not reach ${failed.map((p) => p.node).join(", ")}`);
  },
});

/** Counts the bytes that pass. */
function counter(add: (bytes: number) => void): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, out) {
      add(chunk.byteLength);
      out.enqueue(chunk);
    },
  });
}

/** The pushes' lines on stderr: drawn again in place on a terminal, printed once at the end otherwise. */
class ProgressDisplay {
  private drawn = 0;
  private readonly timer: ReturnType<typeof setInterval> | null;

  constructor(
    private readonly pushes: NodePush[],
    private readonly imageBytes: number,
    private readonly live: boolean,
  ) {
    this.timer = live ? setInterval(() => this.draw(), REDRAW_MS) : null;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.draw();
  }

  private draw(): void {
    const lines = progressLines(this.pushes, this.imageBytes);
    const up = this.live && this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    process.stderr.write(`${up}${lines.map((l) => `${this.live ? "\x1b[2K" : ""}${l}\n`).join("")}`);
    this.drawn = lines.length;
  }
}

export default defineCommand({
  meta: { name: "image", description: "Images on the nodes: push one from this machine without a registry" },
  subCommands: { push },
});
