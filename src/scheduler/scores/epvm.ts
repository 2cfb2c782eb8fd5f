import type { ScorePlugin } from "../types.ts";
import { normalizeToRange } from "./normalize.ts";

/** The MOSIX constant from the seed's E-PVM. */
const LIEB = 1.5396007178390020387;
/** The seed's "max jobs per node" for the job-count term. */
const MAX_JOBS = 4;

function marginalCost(before: number, after: number): number {
  return LIEB ** after - LIEB ** before;
}

/**
 * The seed's E-PVM with its bugs fixed: the cpu term counts (it cancelled out in the seed), units
 * are the same on both sides (cores/cores, MiB/MiB), and only ready nodes get here. Lowest marginal
 * cost of adding the task wins; the raw score is the negated cost, normalized over the candidates.
 */
export const epvm: ScorePlugin = {
  name: "epvm",
  weight: 1,
  score: ({ node, allocated, taskCount }, { request }) => {
    const need = request.group.resources;
    const cpu = node.capacity.cpu > 0 ? marginalCost(allocated.cpu / node.capacity.cpu, (allocated.cpu + need.cpu) / node.capacity.cpu) : Number.POSITIVE_INFINITY;
    const mem = node.capacity.memory > 0 ? marginalCost(allocated.memory / node.capacity.memory, (allocated.memory + need.memory) / node.capacity.memory) : Number.POSITIVE_INFINITY;
    const jobs = marginalCost(taskCount / MAX_JOBS, (taskCount + 1) / MAX_JOBS);
    return -(cpu + mem + jobs);
  },
  normalize: normalizeToRange,
};
