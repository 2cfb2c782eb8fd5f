/** Small helpers the benchmarks share: medians, and printing one JSON line or a readable line per scenario. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const jsonOutput = process.argv.includes("--json");

export function report(result: Record<string, unknown>, human: string): void {
  process.stdout.write(jsonOutput ? `${JSON.stringify(result)}\n` : `${human}\n`);
}
