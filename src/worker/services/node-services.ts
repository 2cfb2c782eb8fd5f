import { formatCidr } from "../../lib/ipv4.ts";
import type { Logger } from "../../lib/logger.ts";
import type { ServiceEndpoint, ServiceRoutes, ServiceView } from "../../model/api-types.ts";
import type { ServiceAddress } from "./dns-answers.ts";
import { HostAddresses } from "./host-addresses.ts";
import { pinBridgeAddress } from "./bridge-address.ts";
import { assignAddresses } from "./service-addresses.ts";
import { claimServiceBlock, releaseLeftovers, type ServiceBlock } from "./service-block.ts";
import { hostResolvers, ServiceDns } from "./service-dns.ts";
import { ServiceProxy } from "./service-proxy.ts";

export interface NodeServicesOptions {
  nodeId: string;
  /** The host device of the engine's default bridge, whose address is pinned (see bridge-address.ts); null for none. */
  bridge: string | null;
  /** Where the node keeps its block of addresses (see claimServiceBlock). */
  dataDir: string;
  log: Logger;
}

const DNS_PORT = 53;

/**
 * What makes `NAME.service.cube:<container port>` work in this node's containers, with nothing
 * special in them: the node's own block of addresses on the host's loopback device (containers reach
 * it through their default gateway, the host), a DNS server on its first address (the containers'
 * resolver), one address per service, and a proxy on each service address and container port that
 * forwards to a healthy endpoint wherever it runs. It follows the catalog (apply), converging from
 * whatever the last run left. Containers stay on the engine's default network: several nodes can
 * share one engine (`cube dev`), each with its own block.
 */
export class NodeServices {
  private services = new Map<string, ServiceView>();
  private assigned = new Map<string, string>();
  private readonly proxies = new Map<string, ServiceProxy>();
  private latest: ServiceRoutes | null = null;
  private syncing: Promise<void> | null = null;
  private dns: ServiceDns | null = null;

  private constructor(
    private readonly block: ServiceBlock,
    private readonly addresses: HostAddresses,
    private readonly options: NodeServicesOptions,
  ) {}

  /** Takes the node's block (removing what a worker that died left in it) and starts the DNS server on its first address. */
  static async start(options: NodeServicesOptions): Promise<NodeServices> {
    const addresses = new HostAddresses();
    const block = await claimServiceBlock(options.nodeId, options.dataDir, addresses);
    const services = new NodeServices(block, addresses, options);
    const upstreams = hostResolvers();
    try {
      services.dns = await ServiceDns.start({ address: block.dns, port: DNS_PORT, lookup: (name, job) => services.lookup(name, job), upstreams, log: options.log });
    } catch (err) {
      await addresses.remove(block.dns);
      throw err;
    }
    options.log.info("containers resolve NAME.service.cube here", { dns: block.dns, block: formatCidr(block.block), upstreams: upstreams.join(",") || "none" });
    if (options.bridge) {
      const bridge = options.bridge;
      await pinBridgeAddress(bridge).then(
        (done) => options.log.debug("the engine's bridge address", { bridge, done }),
        (err: Error) => options.log.warn("could not pin the engine's bridge address: containers may lose their way to the node's services for seconds whenever a container comes or goes", { bridge, error: err.message }),
      );
    }
    return services;
  }

  /** The resolver of the node's task containers. */
  get dnsServers(): string[] {
    return [this.block.dns];
  }

  /** Follows a new catalog: proxies see new endpoints at once; addresses and listeners follow (one sync at a time, the newest catalog wins). */
  apply(routes: ServiceRoutes): Promise<void> {
    this.services = new Map(routes.services.map((s) => [s.name, s]));
    this.latest = routes;
    this.syncing ??= this.syncLoop().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  /**
   * Stops the DNS server and the proxies. `release`: also takes the block's addresses away, once no
   * container uses them (while containers still run, the addresses stay, so their lookups fail here
   * at once instead of leaving the host; a restarted worker takes the same block again).
   */
  async stop(release: boolean): Promise<void> {
    this.latest = null;
    await this.syncing;
    await this.dns?.stop();
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    this.proxies.clear();
    if (release) await releaseLeftovers(this.block.block, this.addresses).catch((err: Error) => this.options.log.warn("could not remove the node's addresses", { error: err.message }));
  }

  private lookup(name: string, job?: string): ServiceAddress | undefined {
    const service = this.services.get(name);
    const address = this.assigned.get(name);
    if (!service || address === undefined || (job !== undefined && service.job !== job)) return undefined;
    return { address, ports: [...new Set(service.endpoints.map((e) => e.containerPort))].sort((a, b) => a - b) };
  }

  private endpointsOf(name: string): readonly ServiceEndpoint[] {
    return this.services.get(name)?.endpoints ?? [];
  }

  private async syncLoop(): Promise<void> {
    let done: ServiceRoutes | null = null;
    while (this.latest !== null && this.latest !== done) {
      done = this.latest;
      await this.sync(done);
    }
  }

  private async sync(routes: ServiceRoutes): Promise<void> {
    const { log } = this.options;
    const next = assignAddresses(
      routes.services.map((s) => s.name),
      this.block.services,
      this.assigned,
    );
    const wanted = new Map<string, { service: string; address: string; port: number }>();
    for (const service of routes.services) {
      const address = next.get(service.name);
      if (address === undefined) {
        log.warn("no service address left for a service on this node", { service: service.name, block: formatCidr(this.block.block) });
        continue;
      }
      for (const e of service.endpoints) wanted.set(`${address}:${e.containerPort}`, { service: service.name, address, port: e.containerPort });
    }
    for (const [key, proxy] of this.proxies) {
      if (wanted.get(key)?.service === this.serviceAt(proxy.address)) continue;
      await proxy.close();
      this.proxies.delete(key);
    }
    for (const [name, address] of this.assigned) {
      if (next.get(name) === address) continue;
      this.assigned.delete(name);
      await this.addresses.remove(address).catch((err: Error) => log.warn("could not remove a service address", { address, error: err.message }));
    }
    for (const [name, address] of next) {
      if (this.assigned.get(name) === address) continue;
      try {
        await this.addresses.add(address);
        this.assigned.set(name, address);
      } catch (err) {
        log.warn("could not add a service address", { service: name, address, error: (err as Error).message });
      }
    }
    for (const [key, { service, address, port }] of wanted) {
      if (this.proxies.has(key) || this.assigned.get(service) !== address) continue;
      try {
        this.proxies.set(key, await ServiceProxy.listen(address, port, () => this.endpointsOf(service), log));
      } catch (err) {
        log.warn("could not listen on a service address", { service, address, port, error: (err as Error).message });
      }
    }
  }

  private serviceAt(address: string): string | undefined {
    for (const [name, assigned] of this.assigned) if (assigned === address) return name;
    return undefined;
  }
}
