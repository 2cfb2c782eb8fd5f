import type { ContainerCreateOptions } from "dockerode";
import { LABELS, type TaskConfig } from "../driver.ts";

/** Label holding the task's port names, so a re-adopted container's host ports can be named again. */
export const PORTS_LABEL = "cube.ports";

export const MIB = 1024 * 1024;

/** Container name unique per task, so two tasks with one job/group/index never collide. */
export function containerName(config: TaskConfig): string {
  return `cube-${config.job}-${config.group}-${config.index}-${config.taskId.slice(0, 8)}`;
}

/** The engine's create request for a task: labels, limits, ports, env, and no restart policy of Docker's own. */
export function containerSpec(config: TaskConfig, extraLabels: Record<string, string>): ContainerCreateOptions {
  const { spec } = config;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of spec.ports) {
    exposed[`${port.container}/tcp`] = {};
    bindings[`${port.container}/tcp`] = [{ HostIp: "0.0.0.0", HostPort: port.host === undefined ? "" : String(port.host) }];
  }
  return {
    name: containerName(config),
    Image: spec.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: {
      ...spec.labels,
      ...extraLabels,
      [LABELS.taskId]: config.taskId,
      [LABELS.job]: config.job,
      [LABELS.group]: config.group,
      [LABELS.index]: String(config.index),
      [LABELS.nodeId]: config.nodeId,
      [PORTS_LABEL]: JSON.stringify(Object.fromEntries(spec.ports.map((p) => [p.name, p.container]))),
    },
    ExposedPorts: exposed,
    Tty: false,
    HostConfig: {
      Memory: Math.round(spec.resources.memory * MIB),
      NanoCpus: Math.round(spec.resources.cpu * 1e9),
      RestartPolicy: { Name: "no" },
      PortBindings: bindings,
    },
  };
}

/** Host ports by port name from the engine's `NetworkSettings.Ports`, preferring the IPv4 binding. */
export function boundPorts(
  portNames: Record<string, number>,
  ports: Record<string, { HostIp: string; HostPort: string }[] | null> | undefined,
): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, containerPort] of Object.entries(portNames)) {
    const bindings = ports?.[`${containerPort}/tcp`] ?? [];
    const binding = bindings.find((b) => !b.HostIp.includes(":")) ?? bindings[0];
    if (binding) result[name] = Number(binding.HostPort);
  }
  return result;
}
