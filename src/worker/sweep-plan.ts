import type { ContainerSummary } from "../driver/driver.ts";

/**
 * Who holds a container, as the worker knows it: `run` — a live task runner (its container may run);
 * `keep` — a task that ended here, whose exited container stays for its logs (it must not run);
 * `none` — nobody.
 */
export type Holder = "run" | "keep" | "none";

export interface SweepAction {
  containerId: string;
  taskId: string;
  action: "remove" | "stop";
  reason: string;
}

/**
 * What a sweep of the engine must do so that it runs exactly what the worker's runners own: a
 * container nobody holds is removed, an ended task's container that runs again is stopped. Pure.
 * @example planSweep([{ containerId: "c1", taskId: "t1", running: true }], () => "none") // [{ containerId: "c1", taskId: "t1", action: "remove", … }]
 */
export function planSweep(containers: readonly ContainerSummary[], holderOf: (taskId: string, containerId: string) => Holder): SweepAction[] {
  const actions: SweepAction[] = [];
  for (const { containerId, taskId, running } of containers) {
    const holder = holderOf(taskId, containerId);
    if (holder === "none") {
      actions.push({ containerId, taskId, action: "remove", reason: taskId ? `no task on this node owns it (task ${taskId})` : "it carries this node's label but no task id" });
    } else if (holder === "keep" && running) {
      actions.push({ containerId, taskId, action: "stop", reason: `task ${taskId} has ended; its container is kept stopped for its logs` });
    }
  }
  return actions;
}
