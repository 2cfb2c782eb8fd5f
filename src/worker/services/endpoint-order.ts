import type { ServiceEndpoint } from "../../model/api-types.ts";

/**
 * The endpoints to try for the `turn`-th request or connection, in order: the healthy ones not
 * being stopped, round robin (the others follow as fallbacks when one refuses); only when there are
 * none, the healthy ones still serving out their shutdown delay.
 * @example endpointOrder([a, b, c], 1) // [b, c, a]
 */
export function endpointOrder(endpoints: readonly ServiceEndpoint[], turn: number): ServiceEndpoint[] {
  const serving = endpoints.filter((e) => e.healthy && !e.stopping);
  const candidates = serving.length > 0 ? serving : endpoints.filter((e) => e.healthy);
  if (candidates.length === 0) return [];
  const start = turn % candidates.length;
  return [...candidates.slice(start), ...candidates.slice(0, start)];
}
