/** Strings in ascending order (code unit order, as SQLite's BINARY collation for the names Cube allows), for paging by name. */
export class SortedKeys {
  private readonly keys: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  add(key: string): void {
    const at = this.firstAtOrAfter(key);
    if (this.keys[at] !== key) this.keys.splice(at, 0, key);
  }

  delete(key: string): void {
    const at = this.firstAtOrAfter(key);
    if (this.keys[at] === key) this.keys.splice(at, 1);
  }

  /** The keys after `after` (all of them when undefined), in order. */
  *from(after?: string): Generator<string> {
    let at = after === undefined ? 0 : this.firstAtOrAfter(after);
    if (after !== undefined && this.keys[at] === after) at++;
    for (; at < this.keys.length; at++) yield this.keys[at] as string;
  }

  private firstAtOrAfter(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.keys[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
