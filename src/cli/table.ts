/**
 * Aligns rows under upper-case headers, two spaces apart, like `docker ps` and `nomad status`.
 * @example formatTable(["name", "state"], [["web", "running"]]) // "NAME  STATE\nweb   running"
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const all = [headers.map((h) => h.toUpperCase()), ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ").trimEnd()).join("\n");
}

/** "3m ago"-style age of an epoch-ms time. */
export function formatAge(at: number | null, now = Date.now()): string {
  if (at === null) return "-";
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export function formatPorts(ports: Record<string, number>): string {
  const entries = Object.entries(ports);
  return entries.length === 0 ? "-" : entries.map(([name, port]) => `${name}:${port}`).join(",");
}
