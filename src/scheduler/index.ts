export { ALGORITHMS } from "./algorithms.ts";
export { ClusterIndex } from "./cluster-index.ts";
export { candidateLimit } from "./node-scan.ts";
export { placeTasks } from "./place-tasks.ts";
export { summarizeReasons } from "./summarize-reasons.ts";
export type { Algorithm, ClusterSnapshot, LiveTask, NodeScore, Placement, PlacementFailure, PlacementRequest, PlacementResult, Rejection } from "./types.ts";
