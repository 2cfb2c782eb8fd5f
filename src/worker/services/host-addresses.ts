/**
 * Addresses on one of the host's interfaces, through iproute2's `ip` (workers run as root): a
 * service's address is added to the node network's bridge, so containers on it reach the worker's
 * proxy there.
 */
export class HostAddresses {
  constructor(private readonly device: string) {}

  /** The IPv4 addresses on the device (without prefix lengths). */
  async list(): Promise<string[]> {
    const out = await ip(["-4", "-o", "addr", "show", "dev", this.device]);
    return [...out.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1] as string);
  }

  /** Adding one that is there already is fine. */
  async add(address: string): Promise<void> {
    await ip(["addr", "replace", `${address}/32`, "dev", this.device]);
  }

  /** Removing one that is gone (or whose device is gone) is fine. */
  async remove(address: string): Promise<void> {
    await ip(["addr", "del", `${address}/32`, "dev", this.device]).catch((err: Error) => {
      if (!/Cannot assign requested address|Cannot find device|does not exist/i.test(err.message)) throw err;
    });
  }
}

async function ip(args: string[]): Promise<string> {
  let proc: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;
  try {
    proc = Bun.spawn(["ip", ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch (err) {
    throw new Error(`cannot run "ip ${args.join(" ")}": ${(err as Error).message} (service addresses need iproute2)`);
  }
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`"ip ${args.join(" ")}" failed: ${stderr.trim() || `exit code ${code}`}`);
  return stdout;
}
