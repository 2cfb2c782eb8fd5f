import type { Filter } from "../plugin.ts";

/** A system job places each task on the one node it is meant for. */
export const targetNodes: Filter = {
  passes: ({ node }, { targets }) => targets === null || targets.has(node.id),
  reason: () => "not a target of this system job",
};
