import type { Subprocess } from "bun";
import { existsSync } from "node:fs";
import { resolve } from "node:path";

export const CUBE_BINARY = resolve(import.meta.dir, "../../dist/cube");

export function requireBinary(): void {
  if (!existsSync(CUBE_BINARY)) throw new Error(`${CUBE_BINARY} is missing: build it with \`bun build.ts\` (npm test does)`);
}

/** A `cube serve` child process whose stderr is collected, so tests can wait for a log line. */
export class CubeProcess {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  private log = "";

  constructor(args: string[]) {
    this.proc = Bun.spawn([CUBE_BINARY, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, CUBE_LOG_LEVEL: "info" } });
    void this.collect(this.proc.stderr);
    void this.collect(this.proc.stdout);
  }

  get output(): string {
    return this.log;
  }

  /** Resolves with the first match of `pattern` in the output, or fails after timeoutMs showing the output. */
  async waitForOutput(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const match = this.log.match(pattern);
      if (match) return match;
      if (this.proc.exitCode !== null) break;
      await Bun.sleep(50);
    }
    throw new Error(`no ${pattern} in the output of pid ${this.proc.pid} (exit ${this.proc.exitCode}):\n${this.log}`);
  }

  /** Sends the signal and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number> {
    if (this.proc.exitCode === null) this.proc.kill(signal);
    return await this.proc.exited;
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) this.log += decoder.decode(next.value);
  }
}

/** Runs a CLI command to completion. */
export async function cube(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([CUBE_BINARY, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}
