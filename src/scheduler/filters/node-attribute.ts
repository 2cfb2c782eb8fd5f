import type { Node } from "../../model/node.ts";

const LABEL = "node.label.";

/**
 * The value constraints compare: `node.name`, `node.id`, `node.datacenter`, `node.label.<key>`.
 * @example nodeAttribute(node, "node.label.disk") // "ssd", or undefined when the node has no such label
 */
export function nodeAttribute(node: Node, attribute: string): string | undefined {
  if (attribute.startsWith(LABEL)) {
    const key = attribute.slice(LABEL.length);
    // Own keys only: a label named "constructor" must not find Object.prototype's.
    return Object.hasOwn(node.labels, key) ? node.labels[key] : undefined;
  }
  switch (attribute) {
    case "node.name":
      return node.name;
    case "node.id":
      return node.id;
    case "node.datacenter":
      return node.datacenter;
    default:
      return undefined;
  }
}
