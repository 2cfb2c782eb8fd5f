import type { Filter } from "../plugin.ts";

/** Static host ports must not be reserved by another task on the node. */
export const portsFree: Filter = ({ ports }, { reservedPorts }) => {
  for (const port of Object.values(reservedPorts)) if (ports.has(port)) return `port ${port} in use`;
  return null;
};
