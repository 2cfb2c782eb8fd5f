/** Steps taken in the sparse map before the order is laid out in an array (a map step costs ~50 array steps' time). */
const SPARSE_STEPS = 32;

/**
 * A permutation of 0..size-1 shuffled from a seeded generator (forward Fisher–Yates), made only as
 * far as it is read: a call that looks at 20 of 5,000 nodes pays for 20. Positions not yet reached
 * live in a sparse map for the first few steps; then the rest is laid out in a typed array, which is
 * cheaper per step. Either way the same seed gives the same order.
 */
export class SeededOrder {
  private made = 0;
  private readonly prefix: number[] = [];
  /** Sparse mode: position → the value moved there by an earlier swap (absent: its own index). */
  private readonly moved = new Map<number, number>();
  private dense: Int32Array | null = null;

  constructor(
    readonly size: number,
    private readonly random: () => number,
  ) {}

  /** The k-th element; k may be at most the number read so far (reads go in order). */
  at(k: number): number {
    while (this.made <= k) this.step();
    return this.dense ? (this.dense[k] as number) : (this.prefix[k] as number);
  }

  /** All of it (for scans that must see every node). */
  all(): Int32Array {
    if (this.size > 0) this.at(this.size - 1);
    return this.dense ?? Int32Array.from(this.prefix);
  }

  private step(): void {
    const i = this.made;
    const j = i + Math.floor(this.random() * (this.size - i));
    if (!this.dense && i >= SPARSE_STEPS) this.layOut();
    const dense = this.dense;
    if (dense) {
      const value = dense[j] as number;
      dense[j] = dense[i] as number;
      dense[i] = value;
    } else {
      const value = this.moved.get(j) ?? j;
      this.moved.set(j, this.moved.get(i) ?? i);
      this.moved.delete(i);
      this.prefix.push(value);
    }
    this.made++;
  }

  private layOut(): void {
    const dense = new Int32Array(this.size);
    for (let k = 0; k < this.made; k++) dense[k] = this.prefix[k] as number;
    for (let k = this.made; k < this.size; k++) dense[k] = this.moved.get(k) ?? k;
    this.dense = dense;
    this.moved.clear();
  }
}
