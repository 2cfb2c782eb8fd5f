import type { Filter } from "../types.ts";

const cores = (n: number) => String(Math.round(n * 100) / 100);

/** cpu, memory and disk must all fit in what the node has left. */
export const resourcesFit: Filter = ({ node, allocated }, { request }) => {
  const need = request.group.resources;
  const free = {
    cpu: node.capacity.cpu - allocated.cpu,
    memory: node.capacity.memory - allocated.memory,
    disk: node.capacity.disk - allocated.disk,
  };
  // A tiny epsilon so 0.1 + 0.2 cores fits into 0.3.
  if (need.cpu > free.cpu + 1e-9) return `cpu exhausted: needs ${cores(need.cpu)} cores, ${cores(Math.max(0, free.cpu))} free`;
  if (need.memory > free.memory) return `memory exhausted: needs ${need.memory} MiB, ${Math.max(0, Math.floor(free.memory))} free`;
  if (need.disk > free.disk) return `disk exhausted: needs ${need.disk} MiB, ${Math.max(0, Math.floor(free.disk))} free`;
  return null;
};

/** Static host ports must be free on the node. */
export const portsFree: Filter = ({ ports }, { request }) => {
  for (const port of request.group.ports) {
    if (port.host !== undefined && ports.has(port.host)) return `port ${port.host} in use`;
  }
  return null;
};
