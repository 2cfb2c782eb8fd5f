import { SCHEDULER_ALGORITHMS } from "../model/job.ts";
import type { OrderKey } from "./capacity-class.ts";
import { constraints } from "./filters/constraints.ts";
import { datacenter } from "./filters/datacenter.ts";
import { imagePresent } from "./filters/image-present.ts";
import { nodeStatus } from "./filters/node-status.ts";
import { portsFree } from "./filters/ports-free.ts";
import { resourcesFit } from "./filters/resources-fit.ts";
import { targetNodes } from "./filters/target-nodes.ts";
import { volumeHome } from "./filters/volume-home.ts";
import type { Filter, ScorePlugin } from "./plugin.ts";
import { epvm } from "./scores/epvm.ts";
import { jobAntiAffinity } from "./scores/job-anti-affinity.ts";
import { roundRobin } from "./scores/round-robin.ts";
import { binpack, spread } from "./scores/utilization.ts";
import type { Algorithm } from "./types.ts";

export const ALGORITHMS: readonly Algorithm[] = SCHEDULER_ALGORITHMS;

/** Cheapest first, so most nodes are turned away before the costlier checks run. */
export const FILTERS: readonly Filter[] = [targetNodes, nodeStatus, datacenter, imagePresent, volumeHome, resourcesFit, portsFree, constraints];

export const SCORERS: Record<Algorithm, readonly ScorePlugin[]> = {
  binpack: [binpack, jobAntiAffinity],
  spread: [spread, jobAntiAffinity],
  epvm: [epvm],
  "round-robin": [roundRobin],
};

/**
 * Algorithms whose best node is searched for in capacity classes (see BestFit) rather than among a
 * sample: in classes ordered by which key, from which end. Binpack's best nodes are the fullest,
 * E-PVM's those with the fewest tasks. They break ties on the seeded ring (see tie-ring.ts), in every
 * mode. Spread and round-robin scan a sample.
 */
export const SEARCHED: Partial<Record<Algorithm, { key: OrderKey; fullestFirst: boolean }>> = {
  binpack: { key: "fill", fullestFirst: true },
  epvm: { key: "tasks", fullestFirst: false },
};
