import type { ClassRange } from "../capacity-class.ts";
import { EPSILON } from "../filters/resources-fit.ts";
import type { PlacementContext, ScorePlugin } from "../plugin.ts";
import { load } from "./load.ts";

/** The MOSIX papers' base for E-PVM's exponential cost, as in the seed. */
const LIEB = 1.53960071783900203869;
/** The seed's "max jobs per node" for the task-count term. */
const MAX_JOBS = 4;
/** Far above the rounding of a cost (a few units at most), far below the gaps between nodes' costs. */
const ROUNDING = 1e-9;

function marginalCost(before: number, after: number): number {
  return LIEB ** after - LIEB ** before;
}

/** LIEB^load: what growing a load costs is its pressure times LIEB^step − 1. */
export function pressure(load: number): number {
  return LIEB ** load;
}

function growth(from: number, step: number): number {
  return pressure(from) * (LIEB ** step - 1);
}

/** The range's least (or most) mix of cpu and memory pressure with weight k/4 on cpu. */
function mixOf(range: ClassRange, k: number, most: boolean): number {
  switch (k) {
    case 0:
      return most ? range.maxMix0 : range.minMix0;
    case 1:
      return most ? range.maxMix1 : range.minMix1;
    case 2:
      return most ? range.maxMix2 : range.minMix2;
    case 3:
      return most ? range.maxMix3 : range.minMix3;
    default:
      return most ? range.maxMix4 : range.minMix4;
  }
}

/**
 * At least (or, with `most`, at most) what growing cpu and memory costs on the range's nodes, taking
 * `perCpu`·p(cpu) + `perMemory`·p(memory) with perCpu, perMemory the factors LIEB^step − 1 at the
 * range's least (or largest) steps. Its weight on cpu lies between two of the range's mixes (k/4 and
 * (k+1)/4): the same mix of those bounds it (see ClassRange).
 */
function resourceCost(range: ClassRange, perCpu: number, perMemory: number, most: boolean): number {
  const sum = perCpu + perMemory;
  if (sum <= 0) return 0;
  const at = (4 * perCpu) / sum;
  const k = Math.min(3, Math.floor(at));
  const below = k + 1 - at;
  return sum * (below * mixOf(range, k, most) + (1 - below) * mixOf(range, k + 1, most));
}

/** The least a node in the range can cost, for the search for the best node. */
function lowestCost(range: ClassRange, { request }: PlacementContext): number {
  const need = request.group.resources;
  // A node that fits may be over its capacity by EPSILON, where `load` stops at 1 and the cost at LIEB.
  const capped = LIEB * EPSILON * (range.maxInverseCpu + range.maxInverseMemory);
  const perCpu = LIEB ** (need.cpu * range.minInverseCpu) - 1;
  const perMemory = LIEB ** (need.memory * range.minInverseMemory) - 1;
  return resourceCost(range, perCpu, perMemory, false) + growth(range.minTasks / MAX_JOBS, 1 / MAX_JOBS) - capped - ROUNDING;
}

/** The most a node in the range can cost, for the search for the worst (where normalizing starts). */
function highestCost(range: ClassRange, { request }: PlacementContext): number {
  const need = request.group.resources;
  const perCpu = LIEB ** (need.cpu * range.maxInverseCpu) - 1;
  const perMemory = LIEB ** (need.memory * range.maxInverseMemory) - 1;
  return resourceCost(range, perCpu, perMemory, true) + growth(range.maxTasks / MAX_JOBS, 1 / MAX_JOBS) + ROUNDING;
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
  normalized: true,
  byClass: true,
  upper: (range, ctx) => -lowestCost(range, ctx),
  lower: (range, ctx) => -highestCost(range, ctx),
};
