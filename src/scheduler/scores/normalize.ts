/** Maps raw scores linearly onto 0–100, best (highest) = 100; all equal → all 100. */
export function normalizeToRange(raw: number[]): number[] {
  const max = Math.max(...raw);
  const min = Math.min(...raw);
  return raw.map((r) => (max === min ? 100 : ((r - min) / (max - min)) * 100));
}
