import si from "systeminformation";
import type { Resources } from "../model/job.ts";
import type { NodeStats } from "../model/node.ts";

const MIB = 1024 * 1024;

/** The filesystem holding `path`: the longest mount point that prefixes it. */
async function diskOf(path: string): Promise<{ size: number; used: number }> {
  const filesystems = await si.fsSize();
  const match = filesystems
    .filter((fs) => path === fs.mount || path.startsWith(fs.mount.endsWith("/") ? fs.mount : `${fs.mount}/`))
    .sort((a, b) => b.mount.length - a.mount.length)[0];
  return match ? { size: match.size, used: match.used } : { size: 0, used: 0 };
}

/** What this machine offers: logical cores, memory and the disk of the data dir, in Cube's units. */
export async function machineCapacity(dataDir: string): Promise<Resources> {
  const [cpu, mem, disk] = await Promise.all([si.cpu(), si.mem(), diskOf(dataDir)]);
  return { cpu: cpu.cores, memory: Math.floor(mem.total / MIB), disk: Math.floor(disk.size / MIB) };
}

/**
 * Live usage for heartbeats. Disk usage comes from `df`, a child process, so it is refreshed at most
 * every 30 s; cpu and memory are cheap reads of /proc.
 */
export class UsageSampler {
  private diskUsedMb = 0;
  private diskAt = 0;

  constructor(private readonly dataDir: string) {}

  async sample(): Promise<NodeStats> {
    const now = Date.now();
    if (now - this.diskAt > 30_000) {
      this.diskUsedMb = Math.floor((await diskOf(this.dataDir)).used / MIB);
      this.diskAt = now;
    }
    const [load, mem] = await Promise.all([si.currentLoad(), si.mem()]);
    return { cpuPercent: Math.round(load.currentLoad * 10) / 10, memoryUsedMb: Math.floor(mem.active / MIB), diskUsedMb: this.diskUsedMb, at: now };
  }
}
