import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { pinBridgeAddress } from "../../src/worker/services/bridge-address.ts";
import { ip } from "../../src/worker/services/host-addresses.ts";

/**
 * The engine's bridge keeps its address while containers come and go once a worker pinned it: on
 * real Linux bridges made for the test (veth pairs stand in for containers), beside one left alone,
 * which takes the lowest address of its ports as the kernel does.
 */
const tag = Math.floor(Math.random() * 0xffff).toString(16);
const made: string[] = [];

async function link(name: string, ...args: string[]): Promise<string> {
  await ip(["link", "add", name, ...args]);
  made.push(name);
  return name;
}

const addressOf = (device: string) => readFileSync(`/sys/class/net/${device}/address`, "utf8").trim();

/** A "container" joining the bridge: a veth pair whose bridge end has the given address. */
async function attach(bridge: string, name: string, address: string): Promise<void> {
  await link(name, "address", address, "type", "veth", "peer", "name", `${name}p`);
  await ip(["link", "set", "dev", name, "master", bridge, "up"]);
}

afterAll(async () => {
  for (const name of made.reverse()) await ip(["link", "del", name]).catch(() => undefined);
});

test("a pinned bridge keeps its address when a port with a lower one joins and when its lowest port leaves; one left alone does not", async () => {
  const pinned = await link(`cbp${tag}`, "type", "bridge");
  const alone = await link(`cba${tag}`, "type", "bridge");
  for (const bridge of [pinned, alone]) {
    await ip(["link", "set", "dev", bridge, "up"]);
    await attach(bridge, `${bridge}a`, "02:00:00:00:50:00");
  }
  expect(await pinBridgeAddress(pinned)).toBe("pinned");
  expect(readFileSync(`/sys/class/net/${pinned}/addr_assign_type`, "utf8").trim()).toBe("3");
  const kept = addressOf(pinned);
  expect(kept).toBe("02:00:00:00:50:00");

  for (const bridge of [pinned, alone]) await attach(bridge, `${bridge}b`, "02:00:00:00:10:00");
  expect(addressOf(alone)).toBe("02:00:00:00:10:00");
  expect(addressOf(pinned)).toBe(kept);

  for (const bridge of [pinned, alone]) await ip(["link", "del", `${bridge}b`]);
  expect(addressOf(pinned)).toBe(kept);
  expect(await pinBridgeAddress(pinned)).toBe("already set");
  expect(await pinBridgeAddress(`nobr${tag}`)).toBe("absent");
});
