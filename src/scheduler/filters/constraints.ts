import type { Constraint } from "../../model/job.ts";
import type { CompiledConstraint, Filter, NodeUsage } from "../plugin.ts";
import { attributeReader } from "./node-attribute.ts";
import { versionRange } from "./version-range.ts";

type Check = (usage: NodeUsage, groupKey: string) => boolean;

/** An attribute test; a missing attribute fails it (`!=` is handled before, where missing passes). */
function attributeTest(attribute: string, test: (actual: string) => boolean): Check {
  const read = attributeReader(attribute);
  return ({ node }) => {
    const actual = read(node);
    return actual !== undefined && test(actual);
  };
}

function regexpTest(pattern: string): (actual: string) => boolean {
  try {
    // Not anchored: the user writes ^ and $ when they mean them.
    const re = new RegExp(pattern);
    return (actual) => re.test(actual);
  } catch {
    return () => false;
  }
}

function checkOf({ attribute, operator, value }: Constraint): Check {
  switch (operator) {
    case "distinct_hosts":
      return value === "false" ? () => true : ({ groups }, key) => (groups.get(key) ?? 0) === 0;
    case "!=": {
      const read = attributeReader(attribute);
      return ({ node }) => read(node) !== value;
    }
    case "=":
      return attributeTest(attribute, (actual) => actual === value);
    case "regexp":
      return attributeTest(attribute, regexpTest(value));
    case "version":
      return attributeTest(attribute, versionRange(value));
  }
}

export function compileConstraints(constraints: readonly Constraint[]): CompiledConstraint[] {
  return constraints.map((c) => ({
    reason: `constraint ${c.attribute} ${c.operator} ${c.value} failed`,
    holds: checkOf(c),
    onNodeOnly: c.operator !== "distinct_hosts",
    onePerNode: c.operator === "distinct_hosts" && c.value !== "false",
  }));
}

/** Job-level constraints first, then the group's; the first that fails names the reason. */
export const constraints: Filter = {
  passes: (usage, { constraints, groupKey }) => {
    for (const c of constraints) if (!c.holds(usage, groupKey)) return false;
    return true;
  },
  reason: (usage, { constraints, groupKey }) => constraints.find((c) => !c.holds(usage, groupKey))?.reason ?? "",
};
