import { formatIpv4 } from "../../lib/ipv4.ts";

/**
 * Gives each service name an address of the node's service range (`count` addresses from `first`),
 * keeping the ones already given (a container may have looked one up) and placing new names where
 * their hash points, so a restarted worker mostly gives the same addresses again. Names beyond the
 * range's room get none.
 * @example assignAddresses(["web", "db"], { first: parseIpv4("198.18.3.2"), count: 253 }, new Map()) // Map { "web" → "198.18.3.x", "db" → … }
 */
export function assignAddresses(names: Iterable<string>, range: { first: number; count: number }, previous: ReadonlyMap<string, string>): Map<string, string> {
  const room = range.count;
  const assigned = new Map<string, string>();
  const used = new Set<string>();
  const wanted = [...new Set(names)].sort();
  for (const name of wanted) {
    const address = previous.get(name);
    if (address === undefined) continue;
    assigned.set(name, address);
    used.add(address);
  }
  for (const name of wanted) {
    if (assigned.has(name) || used.size >= room) continue;
    const start = Number(BigInt(Bun.hash(name)) % BigInt(room));
    for (let i = 0; i < room; i++) {
      const address = formatIpv4(range.first + ((start + i) % room));
      if (used.has(address)) continue;
      assigned.set(name, address);
      used.add(address);
      break;
    }
  }
  return assigned;
}
