/**
 * Why a task could not be placed, most common reason first (ties alphabetically, so the text is stable).
 * @example summarizeReasons({ "datacenter not in [dc2]": 2, "memory exhausted: needs 512 MiB, 300 free": 3 })
 * // "3 nodes: memory exhausted: needs 512 MiB, 300 free; 2 nodes: datacenter not in [dc2]"
 */
export function summarizeReasons(reasons: Record<string, number>): string {
  return Object.entries(reasons)
    .sort(([ra, a], [rb, b]) => b - a || (ra < rb ? -1 : ra > rb ? 1 : 0))
    .map(([reason, n]) => `${n} node${n === 1 ? "" : "s"}: ${reason}`)
    .join("; ");
}
