import type { Node } from "../../model/node.ts";

const LABEL = "node.label.";

export type AttributeReader = (node: Node) => string | undefined;

/**
 * Compiles an attribute name once into a reader, so nothing is parsed per node:
 * `node.name`, `node.id`, `node.datacenter`, `node.label.<key>`; anything else reads as missing.
 * @example attributeReader("node.label.disk")(node) // "ssd", or undefined when the node has no such label
 */
export function attributeReader(attribute: string): AttributeReader {
  if (attribute.startsWith(LABEL)) {
    const key = attribute.slice(LABEL.length);
    // Own keys only: a label named "constructor" must not find Object.prototype's.
    return (node) => (Object.hasOwn(node.labels, key) ? node.labels[key] : undefined);
  }
  switch (attribute) {
    case "node.name":
      return (node) => node.name;
    case "node.id":
      return (node) => node.id;
    case "node.datacenter":
      return (node) => node.datacenter;
    default:
      return () => undefined;
  }
}

