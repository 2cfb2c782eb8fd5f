/** Compose's own notations (Go durations, byte sizes, port and volume strings, shell words) read into Cube's. */

const GO_UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A Go duration as Compose writes them (`1m30s`, `1.5s`, `500ms`) in milliseconds; undefined when it is not one.
 * @example goDuration("1m30s") // 90000
 */
export function goDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "0") return 0;
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== trimmed) return undefined;
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * (GO_UNIT_MS[p[2] as string] as number), 0));
}

const BYTE_UNITS: Record<string, number> = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 };

/**
 * A Compose byte size (`512m`, `1.5G`, `1024`, plain bytes) in MiB, rounded up; undefined when it is not one.
 * @example mebibytes("512M") // 512
 */
export function mebibytes(value: string | number): number | undefined {
  if (typeof value === "number") return Math.ceil(value / 1024 ** 2);
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = BYTE_UNITS[(match?.[2] || "b").toLowerCase()];
  if (!match || unit === undefined) return undefined;
  return Math.ceil((Number(match[1]) * unit) / 1024 ** 2);
}

/**
 * A command line split as a POSIX shell splits words (quotes and backslashes; no expansions), as Compose
 * does for a `command:` or `entrypoint:` given as one string.
 * @example shellWords(`sh -c 'echo "hi there"'`) // ["sh", "-c", 'echo "hi there"']
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    const escaped = c === "\\" && i + 1 < line.length && (quote === null || (quote === '"' && '"\\$`'.includes(line[i + 1] as string)));
    if (escaped) word = (word ?? "") + line[++i];
    else if (quote !== null && c === quote) quote = null;
    else if (quote !== null) word = (word ?? "") + c;
    else if (c === "'" || c === '"') {
      quote = c;
      word ??= "";
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else word = (word ?? "") + c;
  }
  if (word !== null) words.push(word);
  return words;
}

/** A published port: the container's, and the host's when fixed. */
export interface PortMapping {
  container: number;
  host?: number;
  protocol: string;
  /** A host address to bind to: Cube binds every address, so it is reported. */
  hostIp?: string;
}

/**
 * Compose's short port syntax, `[[HOST_IP:]HOST:]CONTAINER[/PROTOCOL]`, without ranges; a string saying what
 * is wrong otherwise.
 * @example portMapping("127.0.0.1:8080:80") // { container: 80, host: 8080, hostIp: "127.0.0.1", protocol: "tcp" }
 */
export function portMapping(value: string | number): PortMapping | string {
  if (typeof value === "number") return { container: value, protocol: "tcp" };
  const [address = "", protocol = "tcp"] = value.split("/");
  if (/\d-\d/.test(address)) return `port ranges are not supported ("${value}"): list each port`;
  const parts = address.split(":");
  const container = Number(parts.at(-1));
  const host = parts.length >= 2 && parts.at(-2) !== "" ? Number(parts.at(-2)) : undefined;
  const hostIp = parts.length >= 3 ? parts.slice(0, -2).join(":").replace(/^\[|\]$/g, "") : undefined;
  const valid = (n: number | undefined) => n === undefined || (Number.isInteger(n) && n >= 1 && n <= 65535);
  if (!valid(container) || !valid(host) || (parts.length > 3 && !address.startsWith("["))) return `"${value}" is not a port (use "CONTAINER", "HOST:CONTAINER" or "IP:HOST:CONTAINER")`;
  return { container, protocol, ...(host !== undefined ? { host } : {}), ...(hostIp ? { hostIp } : {}) };
}

/** A service's volume in Compose's short syntax, `SOURCE:TARGET[:MODE]` or an anonymous `TARGET`. */
export interface VolumeEntry {
  type: "volume" | "bind" | "anonymous";
  source: string;
  target: string;
  readonly: boolean;
}

/**
 * Reads `SOURCE:TARGET[:ro|rw,…]`: a source that is a path (`/`, `.` or `~`) is a bind mount, any other a named volume.
 * @example volumeEntry("pgdata:/var/lib/postgresql/data") // { type: "volume", source: "pgdata", target: "/var/lib/postgresql/data", readonly: false }
 */
export function volumeEntry(text: string): VolumeEntry {
  const [first = "", second, mode = ""] = text.split(":");
  if (second === undefined) return { type: "anonymous", source: "", target: first, readonly: false };
  const bind = /^[/.~]/.test(first);
  return { type: bind ? "bind" : "volume", source: first, target: second, readonly: mode.split(",").includes("ro") };
}

/**
 * A Compose name (services, volumes, projects: letters, digits, `_`, `.`, `-`) as a Cube name (lower
 * case letters, digits and `-`, at most 63).
 * @example cubeName("My_App.v2") // "my-app-v2"
 */
export function cubeName(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
}
