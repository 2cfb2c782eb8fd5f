/** How the dashboard writes numbers and times: the units of the job file (cores, MiB), made readable. */

/** Cores without trailing zeros: `0.25`, `2`, `1.5`. */
export function formatCores(cores: number): string {
  return String(Math.round(cores * 100) / 100);
}

/** MiB below 1 GiB, GiB above: `48 MiB`, `7.8 GiB`. */
export function formatMemory(mib: number): string {
  return mib < 1024 ? `${Math.round(mib)} MiB` : `${Math.round((mib / 1024) * 10) / 10} GiB`;
}

/** A share as a whole percent, 0 when there is no whole to share. */
export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 100) : 0;
}

/** `12s ago`, `3m ago`: for times that the page refreshes often enough to keep true. */
export function formatAge(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** UTC, to the second; the browser script rewrites it in the reader's time zone. */
export function formatTime(at: number): string {
  return new Date(at).toISOString().slice(0, 19).replace("T", " ") + " UTC";
}
