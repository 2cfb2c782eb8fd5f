/** Maps a raw score linearly onto 0–100 over the range of the candidates' raw scores: highest 100, lowest 0; all equal, all 100. */
export function normalize(raw: number, min: number, max: number): number {
  return max === min ? 100 : ((raw - min) / (max - min)) * 100;
}
