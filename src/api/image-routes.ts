import { Hono } from "hono";
import { BadRequestError } from "../lib/errors.ts";
import type { ControlPlane } from "../manager/control-plane.ts";
import type { ImageLoadResult, ImageOnNode } from "../model/api-types.ts";
import type { WorkerProxy } from "./worker-proxy.ts";

function requiredQuery(value: string | undefined, name: string, example: string): string {
  if (!value) throw new BadRequestError(`query parameter ${name} is required (e.g. ?${name}=${example})`);
  return value;
}

/**
 * `cube image push` without a registry: which nodes have an image (each node's worker asks its own
 * engine), and a `docker save` archive streamed through the manager into one node's engine.
 */
export function imageRoutes(manager: ControlPlane, forwardToWorker: WorkerProxy): Hono {
  const app = new Hono();

  app.get("/nodes", async (c) => {
    const image = requiredQuery(c.req.query("image"), "image", "busybox:latest");
    const nodes = manager.imageTargets(c.req.queries("node") ?? []);
    const answers = await Promise.all(
      nodes.map(async (node): Promise<ImageOnNode> => {
        const on = { nodeId: node.id, nodeName: node.name };
        try {
          const res = await forwardToWorker(node, `/v1/images/inspect?${new URLSearchParams({ image })}`, { what: `the images of node ${node.name}` });
          const body = (await res.json()) as { id?: string | null; error?: { message: string } };
          return res.ok ? { ...on, id: body.id ?? null } : { ...on, id: null, error: body.error?.message ?? `HTTP ${res.status}` };
        } catch (err) {
          return { ...on, id: null, error: (err as Error).message };
        }
      }),
    );
    return c.json({ image, nodes: answers });
  });

  app.post("/load", async (c) => {
    const [node] = manager.imageTargets([requiredQuery(c.req.query("node"), "node", "w1")]);
    if (!node || !c.req.raw.body) throw new BadRequestError("the request body is the image archive (docker save)");
    const res = await forwardToWorker(node, "/v1/images/load", {
      method: "POST",
      body: c.req.raw.body,
      headers: { "content-type": "application/x-tar" },
      signal: c.req.raw.signal,
      what: `loading an image into node ${node.name}`,
    });
    if (!res.ok) return res;
    const { loaded, bytes } = (await res.json()) as Pick<ImageLoadResult, "loaded" | "bytes">;
    manager.imageLoaded(node.id, loaded);
    return c.json({ nodeId: node.id, nodeName: node.name, loaded, bytes } satisfies ImageLoadResult);
  });

  return app;
}
