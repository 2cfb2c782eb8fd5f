import type { ServiceEndpoint } from "../../model/api-types.ts";

/**
 * The healthy endpoints in the order to try them for the `turn`-th request or connection: round
 * robin, then the others as fallbacks when one refuses.
 * @example endpointOrder([a, b, c], 1) // [b, c, a]
 */
export function endpointOrder(endpoints: readonly ServiceEndpoint[], turn: number): ServiceEndpoint[] {
  const healthy = endpoints.filter((e) => e.healthy);
  if (healthy.length === 0) return [];
  const start = turn % healthy.length;
  return [...healthy.slice(start), ...healthy.slice(0, start)];
}
