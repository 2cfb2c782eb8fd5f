import { constraints } from "./filters/constraints.ts";
import { datacenter, nodeStatus, targetNodes } from "./filters/node-status.ts";
import { portsFree, resourcesFit } from "./filters/resources-fit.ts";
import { epvm } from "./scores/epvm.ts";
import { roundRobin } from "./scores/round-robin.ts";
import { binpack, jobAntiAffinity, spread } from "./scores/utilization.ts";
import type { Algorithm, Filter, ScorePlugin } from "./types.ts";

export const ALGORITHMS: readonly Algorithm[] = ["binpack", "spread", "epvm", "round-robin"];

/** Cheapest first, so most nodes are turned away before the costlier checks run. */
export const FILTERS: readonly Filter[] = [nodeStatus, targetNodes, datacenter, resourcesFit, portsFree, constraints];

export const SCORERS: Record<Algorithm, readonly ScorePlugin[]> = {
  binpack: [binpack, jobAntiAffinity],
  spread: [spread, jobAntiAffinity],
  epvm: [epvm],
  "round-robin": [roundRobin],
};
