import type { Subprocess } from "bun";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { readSecretFile } from "../../src/lib/secret-file.ts";
import { JOIN_TOKEN_FILE, MANAGEMENT_TOKEN_FILE } from "../../src/manager/bootstrap-tokens.ts";

export const CUBE_BINARY = resolve(import.meta.dir, "../../dist/cube");

export function requireBinary(): void {
  if (!existsSync(CUBE_BINARY)) throw new Error(`${CUBE_BINARY} is missing: build it with \`bun build.ts\` (npm test does)`);
}

/** A `cube serve` child process whose stderr is collected, so tests can wait for a log line. */
export class CubeProcess {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  private log = "";

  /** `prefix` runs the binary through another command (`ip netns exec NS`, which execs it, so the pid stays the binary's). */
  constructor(args: string[], options: { prefix?: string[] } = {}) {
    this.proc = Bun.spawn([...(options.prefix ?? []), CUBE_BINARY, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, CUBE_LOG_LEVEL: "info" } });
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

/** The management and join tokens a manager started with `--data-dir=dir` wrote there (mode 0600). */
export function managerTokens(dir: string): { management: string; join: string } {
  const management = readSecretFile(join(dir, MANAGEMENT_TOKEN_FILE));
  const joinToken = readSecretFile(join(dir, JOIN_TOKEN_FILE));
  if (!management || !joinToken) throw new Error(`no management-token or join-token in ${dir}: has the manager started?`);
  return { management, join: joinToken };
}

/** Runs a CLI command to completion; `env` adds to this process's environment (CUBE_TOKEN, say). */
export async function cube(args: string[], env: Record<string, string> = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([CUBE_BINARY, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}
