import { existsSync, readFileSync } from "node:fs";
import { ip } from "./host-addresses.ts";

/** The kernel's `addr_assign_type` of an address someone set (NET_ADDR_SET). */
const ADDRESS_SET = "3";

/**
 * The address to pin a bridge to: the one it has, or a random locally administered unicast one
 * when it has none yet (a bridge without ports shows all zeros).
 * @example pinnedAddress("1e:23:99:71:f2:46", random) // "1e:23:99:71:f2:46"
 */
export function pinnedAddress(current: string, random: () => Uint8Array = () => crypto.getRandomValues(new Uint8Array(6))): string {
  if (!/^(00:){5}00$/.test(current)) return current;
  const bytes = random();
  bytes[0] = ((bytes[0] ?? 0) & 0xfe) | 0x02;
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * Keeps the engine's bridge on one MAC address. A Linux bridge whose address nobody set takes the
 * lowest address of its ports, so it changes as containers come and go; the other containers' ARP
 * entries for their gateway then name an address nobody answers, and their traffic to the host —
 * the node's DNS server and service proxies — is lost for seconds until the entries expire
 * (lxc/lxc#604). Setting the address, to the one it has, stops the kernel from changing it.
 * @returns what was done: nothing when someone set it already, or when the device is not in this
 * network namespace (a remote engine)
 */
export async function pinBridgeAddress(device: string): Promise<"pinned" | "already set" | "absent"> {
  const sys = `/sys/class/net/${device}`;
  if (!existsSync(`${sys}/bridge`)) return "absent";
  if (readFileSync(`${sys}/addr_assign_type`, "utf8").trim() === ADDRESS_SET) return "already set";
  await ip(["link", "set", "dev", device, "address", pinnedAddress(readFileSync(`${sys}/address`, "utf8").trim())]);
  return "pinned";
}
