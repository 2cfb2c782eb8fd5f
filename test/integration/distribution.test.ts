import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cube, requireBinary } from "../support/processes.ts";

const ROOT = resolve(import.meta.dir, "../..");
const outdir = mkdtempSync(join(tmpdir(), "cube-release-"));

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** What the first bytes of an executable say it runs on: ELF's e_machine, or Mach-O's cputype. */
function platformOf(file: string): string {
  const head = readFileSync(file).subarray(0, 20);
  if (head.readUInt32BE(0) === 0x7f454c46) return `linux-${({ 0x3e: "x64", 0xb7: "arm64" } as Record<number, string>)[head.readUInt16LE(18)] ?? "?"}`;
  if (head.readUInt32LE(0) === 0xfeedfacf) return `darwin-${({ 0x01000007: "x64", 0x0100000c: "arm64" } as Record<number, string>)[head.readUInt32LE(4)] ?? "?"}`;
  return "unknown";
}

test("build.ts --release cross-compiles the four targets with a SHA256SUMS that checks, each stamped with its commit", async () => {
  const build = Bun.spawnSync([process.execPath, "build.ts", "--release", `--outdir=${outdir}`], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  expect(build.stderr.toString()).toBe("");
  expect(build.exitCode).toBe(0);
  const names = ["cube-linux-x64", "cube-linux-arm64", "cube-darwin-x64", "cube-darwin-arm64"];
  for (const name of names) expect(platformOf(join(outdir, name))).toBe(name.slice("cube-".length));

  const sums = readFileSync(join(outdir, "SHA256SUMS"), "utf8").trim().split("\n");
  expect(sums.map((line) => line.split("  ")[1])).toEqual(names);
  const check = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: outdir, stdout: "pipe" });
  expect(check.exitCode).toBe(0);
  // A checksum that does not match is caught: the file is what the sums vouch for.
  writeFileSync(join(outdir, "cube-darwin-x64"), "tampered");
  expect(Bun.spawnSync(["sha256sum", "--quiet", "-c", "SHA256SUMS"], { cwd: outdir, stdout: "pipe", stderr: "pipe" }).exitCode).toBe(1);

  const head = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: ROOT, stdout: "pipe" }).stdout.toString().trim();
  const version = Bun.spawnSync([join(outdir, "cube-linux-x64"), "version", "--json"], { stdout: "pipe" });
  const info = JSON.parse(version.stdout.toString()) as { version: string; commit: string; date: string };
  expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(info.commit.replace(/-dirty$/, "")).toBe(head);
  expect(Math.abs(Date.parse(info.date) - Date.now())).toBeLessThan(10 * 60_000);
}, 180_000);

test("cube version prints the version, commit and build date", async () => {
  requireBinary();
  const result = await cube(["version"]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toMatch(/^cube \d+\.\d+\.\d+ \(commit [0-9a-f]{12}(-dirty)?, built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\n$/);
});

test("cube completion prints bash and zsh scripts that parse, and its candidates come from the commands", async () => {
  requireBinary();
  const bash = await cube(["completion", "bash"]);
  expect(bash.exitCode).toBe(0);
  expect(bash.stdout).toContain("complete -F");
  const parsed = Bun.spawnSync(["bash", "-n"], { stdin: Buffer.from(bash.stdout), stderr: "pipe" });
  expect(parsed.stderr.toString()).toBe("");
  expect(parsed.exitCode).toBe(0);

  const zsh = await cube(["completion", "zsh"]);
  expect(zsh.exitCode).toBe(0);
  expect(zsh.stdout.startsWith("#compdef cube\n")).toBe(true);
  expect(zsh.stdout).toContain("cube complete --");

  // What the scripts ask at each TAB: subcommands by prefix, flags of a command, a flag's values.
  const commands = await cube(["complete", "--", "st"]);
  expect(commands.stdout.split("\n").map((l) => l.split("\t")[0])).toEqual(["stop", "status", ":4", ""]);
  const flags = await cube(["complete", "--", "logs", "--f"]);
  expect(flags.stdout).toContain("--follow\t");
  const roles = await cube(["complete", "--", "serve", "--role", ""]);
  expect(roles.stdout.split("\n").map((l) => l.split("\t")[0])).toEqual(["manager", "worker", ":4", ""]);

  const unknown = await cube(["completion", "fish"]);
  expect(unknown.exitCode).toBe(1);
  expect(unknown.stderr).toContain('cube completion takes bash or zsh, not "fish"');
});
