/** Leading dotted numbers: "v1.2.3-rc1" → [1, 2, 3]; pre-release tags are not ordered. */
function parseVersion(text: string): number[] | null {
  const m = /^v?(\d+(?:\.\d+)*)/.exec(text.trim());
  return m ? (m[1] as string).split(".").map(Number) : null;
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

const HOLDS: Record<string, (c: number) => boolean> = {
  ">=": (c) => c >= 0,
  "<=": (c) => c <= 0,
  ">": (c) => c > 0,
  "<": (c) => c < 0,
  "!=": (c) => c !== 0,
  "=": (c) => c === 0,
};

/**
 * Parses a range once; every comma-separated comparison must hold. An unparsable range or version
 * never matches, so a typo keeps tasks off nodes rather than letting them anywhere.
 * @example versionRange(">= 1.2, < 2.0")("1.10.3") // true
 */
export function versionRange(expression: string): (version: string) => boolean {
  const checks: { holds: (c: number) => boolean; bound: number[] }[] = [];
  for (const part of expression.split(",")) {
    const m = /^\s*(>=|<=|!=|>|<|=)?\s*(\S+)\s*$/.exec(part);
    const bound = m ? parseVersion(m[2] as string) : null;
    const holds = HOLDS[m?.[1] ?? "="];
    if (!bound || !holds) return () => false;
    checks.push({ holds, bound });
  }
  return (version) => {
    const actual = parseVersion(version);
    return actual !== null && checks.every((c) => c.holds(compareVersions(actual, c.bound)));
  };
}
