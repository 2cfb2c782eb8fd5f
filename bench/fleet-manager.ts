/**
 * The manager a fleet bench runs against: a `dist/cube serve --role=manager` child in a temp dir
 * (stopped by pid and its dir removed at the end), or one already running at `--addr`. For a child,
 * its peak RSS and CPU time come from /proc.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CubeProcess, managerTokens, requireBinary } from "../test/support/processes.ts";

export interface ManagerUsage {
  /** Peak resident set (VmHWM), MB. */
  peakRssMb: number;
  /** utime + stime since the process started, seconds. */
  cpuS: number;
}

export interface ManagerUnderTest {
  url: string;
  token: string;
  joinToken: string;
  /** The child's pid; null for a manager this bench did not start. */
  pid: number | null;
  /** Resolves with the exit code if the child ends on its own (never, for an attached manager). */
  exited: Promise<number>;
  /** The latest reading, kept from the last sample if the process is gone; null when there is no pid. */
  usage(): ManagerUsage | null;
  stop(): Promise<void>;
}

const CLOCK_TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;
const SAMPLE_MS = 1_000;
/** A manager still draining connections after this long is killed, so the bench always ends. */
const STOP_GRACE_MS = 10_000;

/** VmHWM and utime+stime of a live process, or null when it is gone. */
export function processUsage(pid: number): ManagerUsage | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const hwmKb = Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    // The command name (field 2) may hold spaces; fields after it start at 3 (state), so utime (14) is the 12th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { peakRssMb: Math.round(hwmKb / 1024), cpuS: Math.round((ticks / CLOCK_TICKS) * 100) / 100 };
  } catch {
    return null;
  }
}

export async function startManager(): Promise<ManagerUnderTest> {
  requireBinary();
  const dataDir = mkdtempSync(join(tmpdir(), "cube-fleet-"));
  const child = new CubeProcess(["serve", "--role=manager", "--port=0", "--bind=127.0.0.1", `--data-dir=${dataDir}`]);
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  try {
    const url = (await child.waitForOutput(/manager listening url=(\S+)/))[1] as string;
    const tokens = managerTokens(dataDir);
    const pid = child.proc.pid;
    let last = processUsage(pid);
    // Sampled, so a manager that dies (out of memory, say) still leaves its last reading.
    const sampler = setInterval(() => (last = processUsage(pid) ?? last), SAMPLE_MS);
    return {
      url: url.replace(/\/$/, ""),
      token: tokens.management,
      joinToken: tokens.join,
      pid,
      exited: child.proc.exited,
      usage: () => (last = processUsage(pid) ?? last),
      async stop() {
        clearInterval(sampler);
        last = processUsage(pid) ?? last;
        await stopWithin(child, STOP_GRACE_MS);
        removeDir();
      },
    };
  } catch (err) {
    await stopWithin(child, STOP_GRACE_MS);
    removeDir();
    throw err;
  }
}

async function stopWithin(child: CubeProcess, graceMs: number): Promise<void> {
  const kill = setTimeout(() => child.proc.kill("SIGKILL"), graceMs);
  await child.stop();
  clearTimeout(kill);
}

export function attachManager(url: string, token: string, joinToken: string): ManagerUnderTest {
  return { url: url.replace(/\/$/, ""), token, joinToken, pid: null, exited: new Promise(() => {}), usage: () => null, stop: async () => {} };
}
