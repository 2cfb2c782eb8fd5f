import { hostname } from "node:os";
import { parseDuration } from "../model/duration.ts";
import { ALGORITHMS, type Algorithm } from "../scheduler/index.ts";
import { repeatedFlag } from "./repeated-flag.ts";

/** Flags shared by `serve` and `dev` (ARCHITECTURE.md, "Roles in one process"). */
export const serverArgs = {
  port: { type: "string", description: "API port (manager 7600, worker 7601)" },
  "data-dir": { type: "string", description: "where state is kept", default: "./cube-data" },
  name: { type: "string", description: "node name (default: host name)" },
  datacenter: { type: "string", description: "datacenter of this node", default: "dc1" },
  label: { type: "string", description: "node label k=v (repeatable)" },
  scheduler: { type: "string", description: `placement algorithm: ${ALGORITHMS.join(" | ")}`, default: "binpack" },
  "heartbeat-ttl": { type: "string", description: "a worker silent this long is down", default: "10s" },
} as const;

export function portArg(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number (0-65535), not "${value}"`);
  return port;
}

/**
 * `ADDR:PORT` of a listener (`0.0.0.0:80`, `[::]:8080`, `:80` for every address).
 * @example listenArg("ingress", "127.0.0.1:8080") // { hostname: "127.0.0.1", port: 8080 }
 */
export function listenArg(flag: string, value: string): { hostname: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new Error(`--${flag} must look like ADDR:PORT (0.0.0.0:8080, 127.0.0.1:80), not "${value}"`);
  return { hostname: match[1] ?? (match[2] || "0.0.0.0"), port };
}

export function algorithmArg(value: string): Algorithm {
  if (!ALGORITHMS.includes(value as Algorithm)) throw new Error(`--scheduler must be one of ${ALGORITHMS.join(", ")}, not "${value}"`);
  return value as Algorithm;
}

export function durationArg(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new Error(`--${flag} must be a duration like 3s or 500ms, not "${value}"`);
  return ms;
}

/** A whole number of at least `min` (1 unless said). */
export function countArg(flag: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be a whole number of at least ${min}, not "${value}"`);
  return n;
}

/** Every `--label k=v` (or `--label=k=v`) in the raw arguments; citty keeps only the last of a repeated flag. */
export function labelArgs(rawArgs: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const value of repeatedFlag(rawArgs, "label")) {
    const eq = value.indexOf("=");
    if (eq <= 0) throw new Error(`--label must look like key=value, not "${value}"`);
    labels[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return labels;
}

export function defaultNodeName(): string {
  return hostname().split(".")[0] || "node";
}
