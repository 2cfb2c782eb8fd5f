import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCidr } from "../../src/lib/ipv4.ts";
import { HostAddresses } from "../../src/worker/services/host-addresses.ts";
import { releaseLeftovers } from "../../src/worker/services/service-block.ts";

/**
 * Removes from the host the DNS and service addresses of every worker whose data dir is under `dir`
 * (a worker killed with SIGKILL leaves them): each keeps its block in a file `service-block`.
 * Run it after the workers' containers are gone.
 */
export async function releaseServiceAddresses(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const file of new Bun.Glob("**/service-block").scanSync({ cwd: dir, onlyFiles: true })) {
    await releaseLeftovers(parseCidr(readFileSync(join(dir, file), "utf8").trim()), new HostAddresses());
  }
}
