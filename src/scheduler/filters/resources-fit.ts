import type { Filter } from "../plugin.ts";

/** Sums of fractional cores drift (0.1 + 0.2 > 0.3), which must not turn away a task that fits exactly. */
export const EPSILON = 1e-9;

const cores = (n: number) => String(Math.round(Math.max(0, n) * 100) / 100);
const mebibytes = (n: number) => String(Math.max(0, Math.floor(n + EPSILON)));

/** cpu, memory and disk must all fit in what the node has left. */
export const resourcesFit: Filter = {
  passes: ({ node, allocated }, { request }) => {
    const need = request.group.resources;
    return (
      need.cpu <= node.capacity.cpu - allocated.cpu + EPSILON &&
      need.memory <= node.capacity.memory - allocated.memory + EPSILON &&
      need.disk <= node.capacity.disk - allocated.disk + EPSILON
    );
  },
  reason: ({ node, allocated }, { request }) => {
    const need = request.group.resources;
    const freeCpu = node.capacity.cpu - allocated.cpu;
    if (need.cpu > freeCpu + EPSILON) return `cpu exhausted: needs ${cores(need.cpu)} cores, ${cores(freeCpu)} free`;
    const freeMemory = node.capacity.memory - allocated.memory;
    if (need.memory > freeMemory + EPSILON) return `memory exhausted: needs ${need.memory} MiB, ${mebibytes(freeMemory)} free`;
    return `disk exhausted: needs ${need.disk} MiB, ${mebibytes(node.capacity.disk - allocated.disk)} free`;
  },
};
