/** Maps raw scores linearly onto 0–100, highest = 100, lowest = 0; all equal → all 100. */
export function normalizeToRange(raw: number[]): number[] {
  let max = Number.NEGATIVE_INFINITY;
  let min = Number.POSITIVE_INFINITY;
  for (const r of raw) {
    if (r > max) max = r;
    if (r < min) min = r;
  }
  return raw.map((r) => (max === min ? 100 : ((r - min) / (max - min)) * 100));
}
