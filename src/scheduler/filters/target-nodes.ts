import type { Filter } from "../plugin.ts";

/** A system job places each task on the one node it is meant for. */
export const targetNodes: Filter = ({ node }, { targets }) =>
  targets !== null && !targets.has(node.id) ? "not a target of this system job" : null;
