/** Fraction of a resource in use, 0–1; a node without any of it counts as full. */
export function load(used: number, capacity: number): number {
  return capacity > 0 ? Math.min(1, used / capacity) : 1;
}
