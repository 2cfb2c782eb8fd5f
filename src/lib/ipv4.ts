/** IPv4 addresses as unsigned 32-bit numbers, and the CIDR blocks Cube carves node networks from. */

export interface Cidr {
  /** The first address of the block. */
  base: number;
  prefix: number;
}

/** `10.0.0.1` → 167772161; throws on anything that is not a dotted quad. */
export function parseIpv4(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`"${text}" is not an IPv4 address`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** `172.20.2.0/23` → { base, prefix: 23 } (host bits cleared). */
export function parseCidr(text: string): Cidr {
  const [address, bits] = text.split("/");
  const prefix = Number(bits);
  if (address === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`"${text}" is not an IPv4 CIDR block`);
  return { base: (parseIpv4(address) & mask(prefix)) >>> 0, prefix };
}

export function formatCidr(block: Cidr): string {
  return `${formatIpv4(block.base)}/${block.prefix}`;
}

export function blockSize(block: Cidr): number {
  return 2 ** (32 - block.prefix);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + blockSize(b) && b.base < a.base + blockSize(a);
}

export function contains(block: Cidr, address: number): boolean {
  return address >= block.base && address < block.base + blockSize(block);
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}
