import type { PortSpec } from "../../model/job.ts";

/** Label holding the task's port names, so a re-adopted container's host ports can be named again. */
export const PORTS_LABEL = "cube.ports";

/** Container port by port name. */
export function portNames(ports: PortSpec[]): Record<string, number> {
  return Object.fromEntries(ports.map((p) => [p.name, p.container]));
}

/** The port names a container was created with; none for a container that predates the label. */
export function portNamesFromLabels(labels: Record<string, string>): Record<string, number> {
  return JSON.parse(labels[PORTS_LABEL] ?? "{}") as Record<string, number>;
}

/**
 * Host ports by port name from the engine's `NetworkSettings.Ports`. The engine may list one binding
 * on 0.0.0.0 and one on ::, usually on the same port; the IPv4 one is the one asked for.
 * @example boundPorts({ http: 8080 }, { "8080/tcp": [{ HostIp: "0.0.0.0", HostPort: "32768" }] }) // { http: 32768 }
 */
export function boundPorts(
  names: Record<string, number>,
  ports: Record<string, { HostIp: string; HostPort: string }[] | null> | undefined,
): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, containerPort] of Object.entries(names)) {
    const bindings = ports?.[`${containerPort}/tcp`] ?? [];
    const binding = bindings.find((b) => !b.HostIp.includes(":")) ?? bindings[0];
    if (binding) result[name] = Number(binding.HostPort);
  }
  return result;
}
