import type { Filter } from "../plugin.ts";

/** Static host ports must not be reserved by another task on the node. */
export const portsFree: Filter = {
  passes: ({ ports }, { hostPorts }) => {
    for (const port of hostPorts) if (ports.has(port)) return false;
    return true;
  },
  reason: ({ ports }, { hostPorts }) => `port ${hostPorts.find((p) => ports.has(p))} in use`,
};
