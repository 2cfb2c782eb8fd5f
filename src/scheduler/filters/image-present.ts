import type { Filter } from "../plugin.ts";

/** An image no registry can supply runs only on the nodes that have it (the request says which, and why). */
export const imagePresent: Filter = {
  passes: ({ node }, { request }) => request.imageOn === undefined || request.imageOn.nodes.has(node.id),
  reason: (_usage, { request }) => request.imageOn?.reason ?? "",
};
