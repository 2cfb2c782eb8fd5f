import { compileConstraints } from "./filters/constraints.ts";
import { groupKey } from "./node-usage.ts";
import type { PlacementContext } from "./plugin.ts";
import type { PlacementRequest } from "./types.ts";

export function placementContext(request: PlacementRequest): PlacementContext {
  const { job, group } = request;
  const reservedPorts: Record<string, number> = {};
  for (const port of group.ports) if (port.host !== undefined) reservedPorts[port.name] = port.host;
  return {
    request,
    groupKey: groupKey(job.name, group.name),
    desiredCount: group.count,
    targets: request.onlyNodes ? new Set(request.onlyNodes) : null,
    constraints: compileConstraints([...job.constraints, ...group.constraints]),
    reservedPorts,
  };
}
