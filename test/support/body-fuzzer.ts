/**
 * Random and mutated request bodies for fuzzing the API, from a seeded generator so a failure
 * replays: broken JSON and YAML, huge and odd numbers, wrong types, deep nesting, long strings,
 * prototype-polluting keys, and valid bodies with a few fields changed.
 */
export class BodyFuzzer {
  constructor(private readonly random: () => number) {}

  private int(below: number): number {
    return Math.floor(this.random() * below);
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  private static readonly NUMBERS = [0, -0, 1, -1, 0.5, 3, 63, 64, 65_535, 65_536, 2 ** 31, 2 ** 53 + 1, -(2 ** 53), 1e308, -1e308, 5e-324, 1e21, 100_001, 4_194_305];
  private static readonly STRINGS = ["", " ", "a", "web", "main", "0", "true", "null", "-1", "1e999", "5s", "-5s", "999999h", "💥", "\u0000", "\u202e", "../../etc/passwd", "/", "%2e%2e", "<script>", "${jndi:x}", "Robert'); DROP TABLE jobs;--", "__proto__", "NET_ADMIN", "host", "cube-test/busybox:latest"];
  private static readonly KEYS = ["name", "tasks", "image", "count", "type", "env", "labels", "resources", "cpu", "memory", "ports", "host", "privileged", "network_mode", "cap_add", "mounts", "role", "id", "stats", "state", "group", "version", "eligible", "command", "__proto__", "constructor", "prototype", "toString", ""];

  string(): string {
    if (this.chance(0.1)) return this.pick(["x", "é", "\u0000", "a-"]).repeat(1 + this.int(70_000));
    return this.pick(BodyFuzzer.STRINGS);
  }

  /** Any JSON value, nested up to `depth`. */
  value(depth = 3): unknown {
    const kind = this.int(depth > 0 ? 8 : 5);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.chance(0.5) ? this.pick(BodyFuzzer.NUMBERS) : (this.random() - 0.5) * 10 ** this.int(20);
      case 3:
      case 4:
        return this.string();
      case 5:
        return this.chance(0.05) ? Array.from({ length: 2_000 + this.int(3_000) }, () => this.pick(BodyFuzzer.NUMBERS)) : Array.from({ length: this.int(5) }, () => this.value(depth - 1));
      default:
        return Object.fromEntries(Array.from({ length: this.int(6) }, () => [this.chance(0.7) ? this.pick(BodyFuzzer.KEYS) : this.string().slice(0, 100), this.value(depth - 1)]));
    }
  }

  /** Arrays or objects nested thousands deep. */
  deep(): string {
    const depth = 10 + this.int(20_000);
    return this.chance(0.5) ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
  }

  /** A deep copy of `valid` with one to four fields replaced, removed, added or retyped. */
  mutate(valid: unknown): unknown {
    let root = structuredClone(valid);
    for (let n = 1 + this.int(4); n > 0; n--) {
      const path = this.randomPath(root);
      if (path.length === 0) {
        root = this.value();
        continue;
      }
      const parent = path.slice(0, -1).reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, root as Record<string, unknown>);
      const key = path.at(-1) as string;
      const action = this.int(5);
      if (action === 0) delete parent[key];
      else if (action === 1) parent[this.pick(BodyFuzzer.KEYS)] = this.value(2);
      else if (action === 2) parent[key] = [parent[key]];
      else if (action === 3) parent[key] = typeof parent[key] === "number" ? String(parent[key]) : this.pick(BodyFuzzer.NUMBERS);
      else parent[key] = this.value(2);
    }
    return root;
  }

  private randomPath(root: unknown): string[] {
    const path: string[] = [];
    let node = root;
    while (node !== null && typeof node === "object" && this.chance(0.75)) {
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const key = this.pick(keys);
      path.push(key);
      node = (node as Record<string, unknown>)[key];
    }
    return path;
  }

  /** The text of a request body: valid-ish JSON or YAML of a mutated seed, or something broken. */
  text(valid: unknown, yaml: boolean): string {
    const serialize = (v: unknown) => (yaml && this.chance(0.7) ? Bun.YAML.stringify(v, null, 2) : JSON.stringify(v));
    const choice = this.int(10);
    if (choice <= 3) return serialize(this.mutate(valid));
    if (choice === 4) return serialize(this.value());
    if (choice === 5) return this.deep();
    if (choice === 6) return this.corrupt(serialize(this.mutate(valid)));
    if (choice === 7) return this.pick(["", "null", "[]", "{}", "0", '"x"', "\uFEFF{}", "{", "}", "{\"name\":", "%YAML 1.2\n---", "- - - -", "a: &a [*a]", "!!binary AAAA", "? ? ?", "\t\tname: x", "name: !!js/function 'x'"]);
    if (choice === 8 && this.chance(0.1)) return `{"name":"${"x".repeat(1024 * 1024)}"}`;
    return serialize(this.value(4));
  }

  private corrupt(text: string): string {
    if (text.length === 0) return "\u0000";
    const at = this.int(text.length);
    switch (this.int(4)) {
      case 0:
        return text.slice(0, at);
      case 1:
        return `${text.slice(0, at)}${this.pick(["\"", "{", "]", ",", ":", "\\", "\u0000", "\n- ", "&x ", "*x"])}${text.slice(at)}`;
      case 2:
        return text.slice(0, at) + text.slice(at + 1 + this.int(10));
      default:
        return text.repeat(2);
    }
  }
}
