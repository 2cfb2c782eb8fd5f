import Docker from "dockerode";
import { networkInterfaces } from "node:os";
import { blockSize, type Cidr, formatCidr, formatIpv4, overlaps, parseCidr } from "../../lib/ipv4.ts";
import { LABELS, type NodeNetwork, type NodeNetworkInfo } from "../driver.ts";
import { defaultSocket } from "./docker-driver.ts";
import { engineMessage, engineStatus, toDriverError } from "./engine-errors.ts";

/** Node networks are /23 blocks of this pool: the lower /24 for containers, the upper one for service addresses. */
const POOL = parseCidr("172.20.0.0/14");
const BLOCK_PREFIX = 23;
const BRIDGE_OPTION = "com.docker.network.bridge.name";

/** The network's layout inside its block: the gateway first, containers in the lower half, services in the upper. */
export function nodeNetworkLayout(block: Cidr): { subnet: string; containers: string; gateway: string; serviceRange: string } {
  const half = blockSize(block) / 2;
  return {
    subnet: formatCidr(block),
    containers: formatCidr({ base: block.base, prefix: block.prefix + 1 }),
    gateway: formatIpv4(block.base + 1),
    serviceRange: formatCidr({ base: block.base + half, prefix: block.prefix + 1 }),
  };
}

/**
 * The blocks of the pool in the order a node tries them: from a place its id picks (so nodes that
 * start together rarely race for one block), skipping blocks that overlap a network or an address
 * the host already has.
 */
export function candidateBlocks(nodeId: string, taken: readonly Cidr[]): Cidr[] {
  const count = blockSize(POOL) / 2 ** (32 - BLOCK_PREFIX);
  const start = Number(BigInt(Bun.hash(nodeId)) % BigInt(count));
  const blocks: Cidr[] = [];
  for (let i = 0; i < count; i++) {
    const block = { base: POOL.base + ((start + i) % count) * 2 ** (32 - BLOCK_PREFIX), prefix: BLOCK_PREFIX };
    if (!taken.some((t) => overlaps(t, block))) blocks.push(block);
  }
  return blocks;
}

/** Most blocks tried before giving up: each refusal is another process taking the block first. */
const MAX_TRIES = 16;

/**
 * Each node's own bridge network on the engine (`cube-<node id>`, labelled with the node id), so
 * several workers sharing one engine (`cube dev`) each have a gateway address of their own for their
 * DNS server and service addresses. A network found again (a restarted worker) is reused as it is.
 */
export class DockerNodeNetwork implements NodeNetwork {
  private readonly docker: Docker;

  constructor(private readonly socketPath = defaultSocket()) {
    this.docker = new Docker({ socketPath });
  }

  async ensure(nodeId: string): Promise<NodeNetworkInfo> {
    const name = networkName(nodeId);
    const found = await this.inspect(name);
    if (found) return found;
    const taken = [...(await this.engineSubnets()), ...hostSubnets()];
    let lastError = "no free block left in the pool";
    for (const block of candidateBlocks(nodeId, taken).slice(0, MAX_TRIES)) {
      const layout = nodeNetworkLayout(block);
      try {
        await this.docker.createNetwork({
          Name: name,
          Driver: "bridge",
          CheckDuplicate: true,
          Labels: { [LABELS.nodeId]: nodeId },
          Options: { [BRIDGE_OPTION]: bridgeName(nodeId) },
          IPAM: { Driver: "default", Config: [{ Subnet: layout.subnet, IPRange: layout.containers, Gateway: layout.gateway }] },
        });
      } catch (err) {
        // Another network took the block (or this name) meanwhile: look again, then try the next block.
        if (engineStatus(err) !== 409 && !/overlap|in use|already exists/i.test(engineMessage(err))) throw toDriverError(err, `cannot create network ${name}`, this.socketPath);
        lastError = engineMessage(err);
        const raced = await this.inspect(name);
        if (raced) return raced;
        continue;
      }
      return (await this.inspect(name)) as NodeNetworkInfo;
    }
    throw new Error(`cannot create network ${name} in ${formatCidr(POOL)}: ${lastError}`);
  }

  async remove(nodeId: string): Promise<void> {
    try {
      await this.docker.getNetwork(networkName(nodeId)).remove();
    } catch (err) {
      if (engineStatus(err) === 404) return;
      throw toDriverError(err, `cannot remove network ${networkName(nodeId)}`, this.socketPath);
    }
  }

  private async inspect(name: string): Promise<NodeNetworkInfo | null> {
    let info: Docker.NetworkInspectInfo;
    try {
      info = await this.docker.getNetwork(name).inspect();
    } catch (err) {
      if (engineStatus(err) === 404) return null;
      throw toDriverError(err, `cannot inspect network ${name}`, this.socketPath);
    }
    const subnet = info.IPAM?.Config?.[0]?.Subnet;
    if (!subnet) throw new Error(`network ${name} exists but has no IPv4 subnet; remove it (docker network rm ${name}) and start the worker again`);
    const layout = nodeNetworkLayout(parseCidr(subnet));
    return { name, bridge: info.Options?.[BRIDGE_OPTION] ?? `br-${info.Id.slice(0, 12)}`, gateway: layout.gateway, subnet: layout.subnet, serviceRange: layout.serviceRange };
  }

  private async engineSubnets(): Promise<Cidr[]> {
    const networks = await this.docker.listNetworks().catch((err) => {
      throw toDriverError(err, "cannot list networks", this.socketPath);
    });
    return networks.flatMap((n) => (n.IPAM?.Config ?? []).flatMap((c) => (c.Subnet && !c.Subnet.includes(":") ? [parseCidr(c.Subnet)] : [])));
  }
}

export function networkName(nodeId: string): string {
  return `cube-${nodeId.slice(0, 12)}`;
}

/** Linux interface names are at most 15 characters. */
function bridgeName(nodeId: string): string {
  return `cube${nodeId.replace(/[^a-z0-9]/gi, "").slice(0, 11)}`;
}

function hostSubnets(): Cidr[] {
  return Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a && a.family === "IPv4" && a.cidr ? [parseCidr(a.cidr)] : []));
}
