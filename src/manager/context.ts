import type { Logger } from "../lib/logger.ts";
import type { Store } from "../store/index.ts";
import type { AssignmentWatch } from "./assignment-watch.ts";
import type { ClusterState } from "./cluster-state.ts";
import type { Commit } from "./commit.ts";
import type { EventBus } from "./event-bus.ts";
import type { ImageCatalog } from "./image-catalog.ts";
import type { ManagerMetrics } from "./manager-metrics.ts";

/** What the manager's parts share: the state they read, the one way to change it, and where news goes. */
export interface ManagerContext {
  store: Store;
  state: ClusterState;
  commit: Commit;
  bus: EventBus;
  watch: AssignmentWatch;
  metrics: ManagerMetrics;
  /** Which images each node's engine holds (workers report them with heartbeats). */
  images: ImageCatalog;
  log: Logger;
  now: () => number;
}
