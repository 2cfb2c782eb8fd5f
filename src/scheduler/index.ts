export { ALGORITHMS } from "./algorithms.ts";
export { placeTasks } from "./place-tasks.ts";
export { summarizeReasons } from "./summarize-reasons.ts";
export type { Algorithm, ClusterSnapshot, NodeScore, Placement, PlacementFailure, PlacementRequest, PlacementResult } from "./types.ts";
