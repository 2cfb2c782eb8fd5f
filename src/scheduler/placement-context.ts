import type { ClusterIndex } from "./cluster-index.ts";
import { compileConstraints } from "./filters/constraints.ts";
import { datacenter } from "./filters/datacenter.ts";
import { imagePresent } from "./filters/image-present.ts";
import { nodeStatus } from "./filters/node-status.ts";
import { targetNodes } from "./filters/target-nodes.ts";
import { volumeHome } from "./filters/volume-home.ts";
import { groupKey } from "./node-usage.ts";
import type { NodeUsage, PlacementContext } from "./plugin.ts";
import { spreadsOf, tallySpreads } from "./spread-tally.ts";
import type { PlacementRequest } from "./types.ts";

/** Could the node take the group were it empty: the filters that look at the node alone. */
export function qualifies(usage: NodeUsage, ctx: PlacementContext): boolean {
  if (!targetNodes.passes(usage, ctx) || !nodeStatus.passes(usage, ctx) || !datacenter.passes(usage, ctx) || !imagePresent.passes(usage, ctx) || !volumeHome.passes(usage, ctx)) return false;
  return ctx.constraints.every((c) => !c.onNodeOnly || c.holds(usage, ctx.groupKey));
}

export function placementContext(request: PlacementRequest, cluster: ClusterIndex): PlacementContext {
  const { job, group } = request;
  const reservedPorts: Record<string, number> = {};
  for (const port of group.ports) if (port.host !== undefined) reservedPorts[port.name] = port.host;
  const ctx: PlacementContext = {
    request,
    groupKey: groupKey(job.name, group.name),
    desiredCount: group.count,
    targets: request.onlyNodes ? new Set(request.onlyNodes) : null,
    constraints: compileConstraints([...job.constraints, ...group.constraints]),
    reservedPorts,
    hostPorts: Object.values(reservedPorts),
    spreads: [],
    volumeNode: null,
  };
  const spreads = spreadsOf(job, group);
  if (spreads.length > 0) ctx.spreads = tallySpreads(spreads, cluster, ctx.groupKey, (usage) => qualifies(usage, ctx));
  return ctx;
}
