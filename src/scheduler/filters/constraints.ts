import type { Constraint } from "../../model/job.ts";
import type { Node } from "../../model/node.ts";
import type { Filter, NodeUsage, PlacementContext } from "../types.ts";

/** `node.name`, `node.id`, `node.datacenter`, `node.label.<key>`; undefined when the node has no such attribute. */
export function nodeAttribute(node: Node, attribute: string): string | undefined {
  if (attribute.startsWith("node.label.")) return node.labels[attribute.slice("node.label.".length)];
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

function versionParts(text: string): number[] {
  return text.replace(/^v/, "").split(/[.+-]/).map((p) => Number.parseInt(p, 10) || 0);
}

function compareVersions(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** ">= 1.2, < 2.0": every comma-separated comparison must hold. */
export function versionMatches(actual: string, expression: string): boolean {
  return expression.split(",").every((part) => {
    const m = /^\s*(>=|<=|!=|>|<|=)?\s*(\S+)\s*$/.exec(part);
    if (!m) return false;
    const c = compareVersions(actual, m[2] as string);
    switch (m[1] ?? "=") {
      case ">=":
        return c >= 0;
      case "<=":
        return c <= 0;
      case ">":
        return c > 0;
      case "<":
        return c < 0;
      case "!=":
        return c !== 0;
      default:
        return c === 0;
    }
  });
}

function holds(c: Constraint, usage: NodeUsage, ctx: PlacementContext): boolean {
  if (c.operator === "distinct_hosts") return c.value === "false" || (usage.groups.get(ctx.groupKey) ?? 0) === 0;
  const actual = nodeAttribute(usage.node, c.attribute);
  if (c.operator === "!=") return actual !== c.value;
  if (actual === undefined) return false;
  if (c.operator === "=") return actual === c.value;
  if (c.operator === "version") return versionMatches(actual, c.value);
  try {
    return new RegExp(c.value).test(actual);
  } catch {
    return false;
  }
}

/** Job-level constraints, then the task group's. */
export const constraints: Filter = (usage, ctx) => {
  for (const c of [...ctx.request.job.constraints, ...ctx.request.group.constraints]) {
    if (holds(c, usage, ctx)) continue;
    return c.operator === "distinct_hosts" ? "constraint distinct_hosts failed" : `constraint ${c.attribute} ${c.operator} ${c.value} failed`;
  }
  return null;
};
