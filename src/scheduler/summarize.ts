/**
 * Why a task could not be placed, most common reason first.
 * @example summarizeReasons({ "memory exhausted": 3, "datacenter not in [dc2]": 2 }) // "3 nodes: memory exhausted; 2 nodes: datacenter not in [dc2]"
 */
export function summarizeReasons(reasons: Record<string, number>): string {
  return Object.entries(reasons)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, n]) => `${n} node${n === 1 ? "" : "s"}: ${reason}`)
    .join("; ");
}
