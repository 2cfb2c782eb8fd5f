/**
 * Addresses on one of the host's devices, through iproute2's `ip` (workers run as root): the node's
 * DNS server and service addresses live on the loopback device, where containers reach them through
 * their default gateway (the host).
 */
export class HostAddresses {
  constructor(private readonly device = "lo") {}

  /** The IPv4 addresses on the device (without prefix lengths). */
  async list(): Promise<string[]> {
    const out = await ip(["-4", "-o", "addr", "show", "dev", this.device]);
    return [...out.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1] as string);
  }

  /** Adds the address unless someone has it already: false then. */
  async claim(address: string): Promise<boolean> {
    try {
      await ip(["addr", "add", `${address}/32`, "dev", this.device]);
      return true;
    } catch (err) {
      if (/File exists/i.test((err as Error).message)) return false;
      throw err;
    }
  }

  /** Adding one that is there already is fine. */
  async add(address: string): Promise<void> {
    await ip(["addr", "replace", `${address}/32`, "dev", this.device]);
  }

  /** Removing one that is gone is fine. */
  async remove(address: string): Promise<void> {
    await ip(["addr", "del", `${address}/32`, "dev", this.device]).catch((err: Error) => {
      if (!/Cannot assign requested address|Cannot find device|does not exist/i.test(err.message)) throw err;
    });
  }
}

/** Runs iproute2's `ip` with the arguments; its output, or an error with what it printed. */
export async function ip(args: string[]): Promise<string> {
  let proc: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;
  try {
    proc = Bun.spawn(["ip", ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch (err) {
    throw new Error(`cannot run "ip ${args.join(" ")}": ${(err as Error).message} (the node's DNS server and service addresses need iproute2)`);
  }
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`"ip ${args.join(" ")}" failed: ${stderr.trim() || `exit code ${code}`}`);
  return stdout;
}
