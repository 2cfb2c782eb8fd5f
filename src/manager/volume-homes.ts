import type { JobSpec, TaskSpec } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { Task } from "../model/task.ts";
import { isGone } from "../model/task-state.ts";

/** Where one of a job's named volumes lives, and the nodes it lived on before (their data did not move). */
export interface VolumeHome {
  volume: string;
  nodeId: string;
  /** Earlier homes, oldest first: a drained or lost node's copy stays there. */
  left: string[];
}

/** The names of the volumes a task mounts, from the spec of the version it runs. */
export function volumesOf(task: Task, specOf: (version: number) => JobSpec | undefined): string[] {
  return specOf(task.jobVersion)?.tasks.find((g) => g.name === task.group)?.volumes?.map((v) => v.name) ?? [];
}

/**
 * Where each of a job's volumes lives: the node of the newest task that mounts it and is placed there
 * (live) or ran there. Read from the tasks the store keeps, so a restarted manager knows it too.
 * @example volumeHomes(tasks, (t) => volumesOf(t, specOf)).get("pgdata")?.nodeId
 */
export function volumeHomes(tasks: Iterable<Task>, mounts: (task: Task) => readonly string[]): Map<string, VolumeHome> {
  const homes = new Map<string, VolumeHome>();
  // Of two made in one millisecond (a drain's replacement and the task it replaces), the one meant to run is the newer.
  const wanted = (t: Task) => (t.desired === "running" ? 1 : 0);
  const placed = [...tasks].filter((t) => t.nodeId !== null && (!isGone(t.state) || t.startedAt !== null)).sort((a, b) => a.createdAt - b.createdAt || wanted(a) - wanted(b));
  for (const task of placed) {
    const nodeId = task.nodeId as string;
    for (const volume of mounts(task)) {
      const home = homes.get(volume);
      if (!home) homes.set(volume, { volume, nodeId, left: [] });
      else if (home.nodeId !== nodeId) {
        home.left = [...home.left.filter((n) => n !== nodeId), home.nodeId];
        home.nodeId = nodeId;
      }
    }
  }
  return homes;
}

/** Why a volume's node takes no new tasks, or null when it does. */
function unusable(node: Node | undefined): string | null {
  if (!node) return "gone";
  if (node.status !== "ready") return node.status;
  return node.eligible ? null : "ineligible";
}

export interface VolumePlacement {
  /** Only these nodes may take the group's tasks (its volumes are there), and why not the others; null: any node. */
  limit: { nodes: ReadonlySet<string>; reason: string } | null;
  /** For each volume whose node can take no tasks (drained, down, gone): its data stays there and the task starts without it. */
  stranded: string[];
}

/**
 * Where a group with named volumes may go: the node its volumes live on (sticky, like Nomad's host
 * volumes), unless that node is drained, down, ineligible or gone; then anywhere, and `stranded` says
 * that the data did not move.
 */
export function volumePlacement(job: string, group: TaskSpec, homes: ReadonlyMap<string, VolumeHome>, node: (id: string) => Node | undefined): VolumePlacement {
  const result: VolumePlacement = { limit: null, stranded: [] };
  let nodes = null as Set<string> | null;
  const reasons: string[] = [];
  for (const volume of group.volumes ?? []) {
    const home = homes.get(volume.name);
    if (!home) continue;
    const where = node(home.nodeId);
    const why = unusable(where);
    if (why !== null) {
      result.stranded.push(`volume ${volume.name} stays on node ${where?.name ?? home.nodeId} (${why}): its data did not move`);
      continue;
    }
    nodes = nodes === null ? new Set([home.nodeId]) : new Set([...nodes].filter((n: string) => n === home.nodeId));
    reasons.push(`volume ${volume.name} of job ${job} is on node ${where?.name}`);
  }
  if (nodes !== null) result.limit = { nodes, reason: reasons.join("; ") };
  return result;
}
