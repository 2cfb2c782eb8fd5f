import type { Filter } from "../plugin.ts";

/**
 * A task with a named volume goes where the volume lives (the request says which node, and why), and
 * replicas placed together share their first one's node: a volume is one node's.
 */
export const volumeHome: Filter = {
  passes: ({ node }, { request, volumeNode }) => (request.volumeOn === undefined || request.volumeOn.nodes.has(node.id)) && (volumeNode === null || volumeNode === node.id),
  reason: ({ node }, { request, volumeNode }) =>
    request.volumeOn !== undefined && !request.volumeOn.nodes.has(node.id) ? request.volumeOn.reason : `the group's volumes are on the node of its first replica (${volumeNode})`,
};
