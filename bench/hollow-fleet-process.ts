/**
 * The hollow fleet as a child process (bench/hollow-fleet.ts), seen from the bench: its latest
 * messages, a way to wait for one, and stop by pid. A child of its own because Bun's fetch keeps at
 * most BUN_CONFIG_MAX_HTTP_REQUESTS (default 256) requests in flight, read once at start-up, and every
 * hollow node holds a long-poll open; it also keeps the bench's own measurements off the fleet's event loop.
 */
import type { Subprocess } from "bun";
import { resolve } from "node:path";
import type { FleetMessage } from "./hollow-fleet.ts";
import { type FleetCounters, newCounters } from "./hollow-node.ts";

type Registered = Extract<FleetMessage, { type: "registered" }>;
type Final = Extract<FleetMessage, { type: "final" }>;

export interface FleetOptions {
  addr: string;
  joinToken: string;
  nodes: number;
  run: string;
}

/** Long-polls, heartbeats and reports can each be in flight once per node. */
const MAX_REQUESTS = (nodes: number) => Math.min(65_535, nodes * 3 + 256);
const STOP_GRACE_MS = 15_000;

export class HollowFleetProcess {
  readonly proc: Subprocess<"pipe", "pipe", "inherit">;
  registered: Registered | null = null;
  progress: FleetCounters & { at: number } = { ...newCounters(), at: 0 };
  final: Final | null = null;
  failure: string | null = null;
  private readonly changed = new Set<() => void>();
  private readonly reading: Promise<void>;

  constructor(options: FleetOptions) {
    const script = resolve(import.meta.dir, "hollow-fleet.ts");
    this.proc = Bun.spawn([process.execPath, script, `--addr=${options.addr}`, `--nodes=${options.nodes}`, `--run=${options.run}`], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
      env: { ...process.env, CUBE_JOIN_TOKEN: options.joinToken, BUN_CONFIG_MAX_HTTP_REQUESTS: String(MAX_REQUESTS(options.nodes)) },
    });
    this.reading = this.read();
  }

  /**
   * Resolves once `holds` is true of the fleet's latest messages; rejects when the fleet fails or ends
   * first, or when `signal` aborts (with its reason).
   */
  until(holds: (fleet: this) => boolean, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        let outcome: Error | true | null = null;
        if (signal.aborted) outcome = signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
        else if (holds(this)) outcome = true;
        else if (this.failure !== null) outcome = new Error(`the hollow fleet failed: ${this.failure}`);
        else if (this.proc.exitCode !== null) outcome = new Error(`the hollow fleet exited early with code ${this.proc.exitCode}`);
        if (outcome === null) return;
        this.changed.delete(check);
        signal.removeEventListener("abort", check);
        if (outcome === true) resolve();
        else reject(outcome);
      };
      this.changed.add(check);
      signal.addEventListener("abort", check);
      check();
    });
  }

  /** SIGTERM by pid, then waits for its final counters (SIGKILL if it does not end in time). */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null) this.proc.kill("SIGTERM");
    const kill = setTimeout(() => this.proc.kill("SIGKILL"), STOP_GRACE_MS);
    await this.proc.exited;
    clearTimeout(kill);
    await this.reading;
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    const reader = this.proc.stdout.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      buffered += decoder.decode(next.value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) if (line.trim() !== "") this.take(JSON.parse(line) as FleetMessage);
      for (const check of [...this.changed]) check();
    }
    await this.proc.exited;
    for (const check of [...this.changed]) check();
  }

  private take(message: FleetMessage): void {
    if (message.type === "registered") this.registered = message;
    else if (message.type === "progress") this.progress = message;
    else if (message.type === "final") this.final = message;
    else this.failure = message.error;
  }
}
