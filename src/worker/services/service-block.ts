import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { blockSize, type Cidr, contains, formatCidr, formatIpv4, overlaps, parseCidr, parseIpv4 } from "../../lib/ipv4.ts";
import type { HostAddresses } from "./host-addresses.ts";

/**
 * Each node takes a /24 of this range (RFC 2544's, reserved for testing networks: unlikely to be in
 * use or routed anywhere) for its DNS server (the first address) and one address per service (the rest).
 */
const POOL = parseCidr("198.18.0.0/15");
const BLOCK_PREFIX = 24;
/** Where a worker keeps its block, so a restarted one takes the same again and removes what it left there. */
const BLOCK_FILE = "service-block";

/** A node's block: its DNS server's address, and the range its service addresses come from. */
export interface ServiceBlock {
  block: Cidr;
  dns: string;
  /** The first service address and how many there are. */
  services: { first: number; count: number };
}

export function serviceBlock(block: Cidr): ServiceBlock {
  return { block, dns: formatIpv4(block.base + 1), services: { first: block.base + 2, count: blockSize(block) - 3 } };
}

/**
 * The pool's blocks in the order a node tries them: from a place its id picks (so nodes that start
 * together rarely try the same one first), skipping blocks that overlap an address the host has.
 */
export function candidateBlocks(nodeId: string, taken: readonly Cidr[]): Cidr[] {
  const step = 2 ** (32 - BLOCK_PREFIX);
  const count = blockSize(POOL) / step;
  const start = Number(BigInt(Bun.hash(nodeId)) % BigInt(count));
  const blocks: Cidr[] = [];
  for (let i = 0; i < count; i++) {
    const block = { base: POOL.base + ((start + i) % count) * step, prefix: BLOCK_PREFIX };
    if (!taken.some((t) => overlaps(t, block))) blocks.push(block);
  }
  return blocks;
}

/**
 * Takes this node's block: the one it kept in its data dir (after removing whatever a worker that
 * died left in it), or the first free one, claimed by adding its DNS address to the device: several
 * workers on one host (`cube dev`) each get their own, as adding an address another took fails.
 */
export async function claimServiceBlock(nodeId: string, dataDir: string, addresses: HostAddresses): Promise<ServiceBlock> {
  const file = join(dataDir, BLOCK_FILE);
  const kept = existsSync(file) ? parseCidr(readFileSync(file, "utf8").trim()) : null;
  if (kept) {
    await releaseLeftovers(kept, addresses);
    const mine = serviceBlock(kept);
    await addresses.add(mine.dns);
    return mine;
  }
  const taken = Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a && a.family === "IPv4" && a.cidr ? [parseCidr(a.cidr)] : []));
  for (const block of candidateBlocks(nodeId, taken)) {
    const candidate = serviceBlock(block);
    if (!(await addresses.claim(candidate.dns))) continue;
    writeFileSync(file, `${formatCidr(block)}\n`);
    return candidate;
  }
  throw new Error(`no free /${BLOCK_PREFIX} left in ${formatCidr(POOL)} for this node's DNS server and service addresses`);
}

/** Removes every address of the block from the device (a worker's own leftovers). */
export async function releaseLeftovers(block: Cidr, addresses: HostAddresses): Promise<void> {
  for (const address of await addresses.list()) if (contains(block, parseIpv4(address))) await addresses.remove(address);
}
