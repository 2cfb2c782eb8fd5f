import type { JobVolume } from "../model/api-types.ts";
import { taskName } from "../model/task.ts";
import { isGone } from "../model/task-state.ts";
import type { JobEntry } from "./cluster-state.ts";
import type { ManagerContext } from "./context.ts";
import { volumeHomes, volumesOf } from "./volume-homes.ts";

/** What the manager knows of named volumes from its tasks: where each job's live, and who uses one on a node. */
export class VolumeViews {
  constructor(private readonly ctx: Pick<ManagerContext, "state">) {}

  /** The job's volumes with their node and the nodes they were left on; none for a job without volumes. */
  ofJob({ job, versions }: JobEntry): JobVolume[] {
    const { state } = this.ctx;
    if (!job.spec.tasks.some((t) => t.volumes?.length)) return [];
    const homes = volumeHomes(state.tasks.ofJob(job.spec.name), (t) => volumesOf(t, (v) => versions.get(v)?.spec));
    const name = (id: string) => state.node(id)?.name ?? id;
    return [...homes.values()].map((h) => ({ name: h.volume, nodeId: h.nodeId, node: name(h.nodeId), left: h.left.map(name) }));
  }

  /**
   * Live tasks of the job on the node that mount the volume, by name, each name once: a replaced task
   * still stopping has its replacement's name (the slot's).
   */
  usersOf(job: string, volume: string, nodeId: string): string[] {
    const { state } = this.ctx;
    const versions = state.job(job)?.versions;
    const users = state.tasks.activeOn(nodeId).filter((t) => t.job === job && !isGone(t.state) && volumesOf(t, (v) => versions?.get(v)?.spec).includes(volume));
    return [...new Set(users.map(taskName))];
  }
}
