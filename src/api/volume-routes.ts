import { Hono } from "hono";
import type { NodeVolume } from "../driver/driver.ts";
import { ConflictError, NotFoundError } from "../lib/errors.ts";
import type { ControlPlane } from "../manager/control-plane.ts";
import type { NodeView, VolumeList, VolumeView } from "../model/api-types.ts";
import type { WorkerProxy } from "./worker-proxy.ts";

/**
 * `cube volume list` and `rm`: each node's worker lists the named volumes its engine holds for Cube's
 * jobs (with their sizes); the manager adds which live tasks use each, and refuses to remove one in use.
 */
export function volumeRoutes(manager: ControlPlane, forwardToWorker: WorkerProxy): Hono {
  const app = new Hono();

  /** Every volume of the nodes (`?node=` names some), with who uses it; a node that cannot be asked is an error entry. */
  async function listVolumes(nodes: readonly NodeView[]): Promise<VolumeList> {
    const list: VolumeList = { volumes: [], errors: [] };
    await Promise.all(
      nodes.map(async (node) => {
        try {
          const res = await forwardToWorker(node, "/v1/volumes", { what: `the volumes of node ${node.name}` });
          const body = (await res.json()) as { volumes?: NodeVolume[]; error?: { message: string } };
          if (!res.ok) return void list.errors.push({ node: node.name, error: body.error?.message ?? `HTTP ${res.status}` });
          for (const v of body.volumes ?? []) list.volumes.push({ ...v, nodeId: node.id, node: node.name, usedBy: manager.volumeUsers(v.job, v.name, node.id) });
        } catch (err) {
          list.errors.push({ node: node.name, error: (err as Error).message });
        }
      }),
    );
    const key = (v: VolumeView) => `${v.job}\u0000${v.name}\u0000${v.node}`;
    list.volumes.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    list.errors.sort((a, b) => (a.node < b.node ? -1 : 1));
    return list;
  }

  app.get("/", async (c) => {
    const list = await listVolumes(manager.volumeNodes(c.req.queries("node") ?? []));
    const job = c.req.query("job");
    return c.json(job === undefined ? list : { ...list, volumes: list.volumes.filter((v) => v.job === job) });
  });

  // Removes the job's volume (and its data) from every node that has it, or from the `?node=` named; never one a live task mounts.
  app.delete("/:job/:name", async (c) => {
    const { job, name } = c.req.param();
    const nodes = manager.volumeNodes(c.req.queries("node") ?? []);
    const { volumes, errors } = await listVolumes(nodes);
    const found = volumes.filter((v) => v.job === job && v.name === name);
    if (found.length === 0) {
      const unasked = errors.length > 0 ? ` (not asked: ${errors.map((e) => `${e.node}: ${e.error}`).join("; ")})` : "";
      throw new NotFoundError(`no node holds volume ${name} of job ${job}${unasked}`);
    }
    const used = found.filter((v) => v.usedBy.length > 0);
    if (used.length > 0) {
      const where = used.map((v) => `${v.usedBy.join(", ")} on node ${v.node}`).join("; ");
      throw new ConflictError(`volume ${name} of job ${job} is in use by ${where}: stop the job (cube stop ${job}) first`);
    }
    const removed: { node: string; engineName: string }[] = [];
    for (const v of found) {
      const node = nodes.find((n) => n.id === v.nodeId) as NodeView;
      const res = await forwardToWorker(node, `/v1/volumes/${encodeURIComponent(v.engineName)}`, { method: "DELETE", what: `removing volume ${name} from node ${node.name}` });
      if (!res.ok) return res;
      removed.push({ node: node.name, engineName: v.engineName });
    }
    return c.json({ removed });
  });

  return app;
}
