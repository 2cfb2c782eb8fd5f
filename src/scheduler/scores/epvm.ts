import type { ScorePlugin } from "../plugin.ts";
import { load } from "./load.ts";
import { normalizeToRange } from "./normalize.ts";

/** The MOSIX papers' base for E-PVM's exponential cost, as in the seed. */
const LIEB = 1.53960071783900203869;
/** The seed's "max jobs per node" for the task-count term. */
const MAX_JOBS = 4;

function marginalCost(before: number, after: number): number {
  return LIEB ** after - LIEB ** before;
}

/**
 * The seed's E-PVM with its bugs fixed: the cpu term counts (it cancelled out in the seed), each
 * load is a fraction of its own capacity (cores/cores, MiB/MiB), and down nodes are filtered
 * before scoring, so they are never preferred. The cost is convex, so the least-loaded node has the
 * lowest marginal cost; the raw score is the negated cost, normalized over the candidates.
 */
export const epvm: ScorePlugin = {
  name: "epvm",
  weight: 1,
  score: ({ node, allocated, taskCount }, { request }) => {
    const need = request.group.resources;
    const { cpu, memory } = node.capacity;
    const cost =
      marginalCost(load(allocated.cpu, cpu), load(allocated.cpu + need.cpu, cpu)) +
      marginalCost(load(allocated.memory, memory), load(allocated.memory + need.memory, memory)) +
      marginalCost(taskCount / MAX_JOBS, (taskCount + 1) / MAX_JOBS);
    return -cost;
  },
  normalize: normalizeToRange,
};
