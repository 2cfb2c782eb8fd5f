/**
 * Footprint of the compiled binary: idle resident memory of a manager and of a worker once settled,
 * and the wall time of `cube version` and `cube nodes` against a running manager.
 *   bun build.ts && bun bench/footprint.ts [--json] [--settle=10s]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDuration } from "../src/model/duration.ts";
import { CubeProcess, managerTokens, requireBinary, CUBE_BINARY } from "../test/support/processes.ts";
import { median, report, round } from "./stats.ts";

const settleMs = parseDuration(process.argv.find((a) => a.startsWith("--settle="))?.slice("--settle=".length) ?? "10s") ?? 10_000;

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return round(Number(line?.replace(/\D+/g, "") ?? 0) / 1024);
}

function timeCommand(args: string[], runs = 15): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = Bun.spawnSync([CUBE_BINARY, ...args], { stdout: "ignore", stderr: "pipe" });
    times.push(performance.now() - started);
    if (result.exitCode !== 0) throw new Error(`cube ${args.join(" ")} failed: ${result.stderr.toString()}`);
  }
  return round(median(times));
}

requireBinary();
const dataDir = mkdtempSync(join(tmpdir(), "cube-footprint-"));
const manager = new CubeProcess(["serve", "--role=manager", "--port=0", "--bind=127.0.0.1", `--data-dir=${join(dataDir, "m")}`]);
let worker: CubeProcess | undefined;
try {
  const url = (await manager.waitForOutput(/manager listening url=(\S+)/))[1] as string;
  const tokens = managerTokens(join(dataDir, "m"));
  worker = new CubeProcess(["serve", "--role=worker", `--join=${url}`, `--join-token=${tokens.join}`, "--port=0", "--bind=127.0.0.1", "--name=footprint-w1", `--data-dir=${join(dataDir, "w")}`]);
  await worker.waitForOutput(/worker listening/);
  await Bun.sleep(settleMs);
  const managerRssMb = rssMb(manager.proc.pid);
  const workerRssMb = rssMb(worker.proc.pid);
  const cliVersionMs = timeCommand(["version"]);
  const cliNodesMs = timeCommand(["nodes", "--addr", url, "--token", tokens.management]);
  report(
    { scenario: "footprint", managerRssMb, workerRssMb, cliVersionMs, cliNodesMs },
    `idle RSS: manager ${managerRssMb} MB (target ≤ 80), worker ${workerRssMb} MB (target ≤ 64); cube version ${cliVersionMs} ms, cube nodes ${cliNodesMs} ms (target ≤ 60)`,
  );
} finally {
  await worker?.stop();
  await manager.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
