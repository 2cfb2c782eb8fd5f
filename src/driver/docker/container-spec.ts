import type { ContainerCreateOptions } from "dockerode";
import { jobSearchDomain } from "../../model/service-names.ts";
import { engineVolumeName, LABELS, type TaskConfig } from "../driver.ts";
import { PORTS_LABEL, portNames } from "./container-ports.ts";

const MIB = 1024 * 1024;

/** Container name unique per task, so two tasks with one job/group/index never collide. */
export function containerName(config: TaskConfig): string {
  return `cube-${config.job}-${config.group}-${config.index}-${config.taskId.slice(0, 8)}`;
}

/** The task's host directories, its named volumes, then its secrets' files (read-only, from the worker's tmpfs). */
function mounts(config: TaskConfig, extraLabels: Record<string, string>) {
  const { spec, secrets } = config;
  // The engine creates a named volume the first time a container mounts it, with these labels (cube volume list reads them).
  const volumeLabels = { ...extraLabels, [LABELS.job]: config.job, [LABELS.nodeId]: config.nodeId };
  return [
    ...(spec.mounts ?? []).map((m) => ({ Type: "bind" as const, Source: m.source, Target: m.target, ReadOnly: m.readonly })),
    ...(spec.volumes ?? []).map((v) => ({
      Type: "volume" as const,
      Source: engineVolumeName(config.job, v.name, config.nodeId),
      Target: v.target,
      ReadOnly: v.readonly,
      VolumeOptions: { NoCopy: false, Labels: { ...volumeLabels, [LABELS.volume]: v.name }, DriverConfig: { Name: "local", Options: {} } },
    })),
    ...(secrets?.files ?? []).map((f) => ({ Type: "bind" as const, Source: f.source, Target: f.target, ReadOnly: true })),
  ];
}

/**
 * The engine's create request for a task: labels, limits, ports, env, and no restart policy of Docker's own.
 * Host access (privileged, host network, capabilities, host directories) is only what the spec asks
 * for; the manager already refused what its --allow list does not permit.
 */
export function containerSpec(config: TaskConfig, extraLabels: Record<string, string>): ContainerCreateOptions {
  const { spec, secrets } = config;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of spec.ports) {
    exposed[`${port.container}/tcp`] = {};
    // An empty HostPort lets the engine pick a free one.
    bindings[`${port.container}/tcp`] = [{ HostIp: "0.0.0.0", HostPort: port.host === undefined ? "" : String(port.host) }];
  }
  // A task on the host's network (or none) keeps the host's resolvers; any other asks the node's DNS server, which knows NAME.service.cube.
  const dns = config.dns && (spec.networkMode === undefined || spec.networkMode === "bridge") ? config.dns : undefined;
  const mounted = mounts(config, extraLabels);
  return {
    name: containerName(config),
    Image: spec.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    Env: Object.entries({ ...spec.env, ...secrets?.env }).map(([k, v]) => `${k}=${v}`),
    // Cube's own labels last: a task's labels must not be able to hide it from recovery.
    Labels: {
      ...spec.labels,
      ...extraLabels,
      [LABELS.taskId]: config.taskId,
      [LABELS.job]: config.job,
      [LABELS.group]: config.group,
      [LABELS.index]: String(config.index),
      [LABELS.nodeId]: config.nodeId,
      [PORTS_LABEL]: JSON.stringify(portNames(spec.ports)),
    },
    ExposedPorts: exposed,
    // Tty off keeps stdout and stderr apart in the log stream.
    Tty: false,
    HostConfig: {
      Memory: Math.round(spec.resources.memory * MIB),
      NanoCpus: Math.round(spec.resources.cpu * 1e9),
      RestartPolicy: { Name: "no" },
      PortBindings: bindings,
      Privileged: spec.privileged ?? false,
      ...(spec.networkMode ? { NetworkMode: spec.networkMode } : {}),
      // The job's own services answer to their bare names (see dns-answers.ts).
      ...(dns ? { Dns: dns, DnsSearch: [jobSearchDomain(config.job)] } : {}),
      ...(spec.capAdd?.length ? { CapAdd: spec.capAdd } : {}),
      ...(mounted.length > 0 ? { Mounts: mounted } : {}),
    },
  };
}
