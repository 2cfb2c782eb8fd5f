import type { NodeNetwork, NodeNetworkInfo, TaskNetwork } from "../../driver/driver.ts";
import { contains, type Cidr, parseCidr, parseIpv4 } from "../../lib/ipv4.ts";
import type { Logger } from "../../lib/logger.ts";
import type { ServiceEndpoint, ServiceRoutes, ServiceView } from "../../model/api-types.ts";
import type { ServiceAddress } from "./dns-answers.ts";
import { HostAddresses } from "./host-addresses.ts";
import { assignAddresses } from "./service-addresses.ts";
import { hostResolvers, ServiceDns } from "./service-dns.ts";
import { ServiceProxy } from "./service-proxy.ts";

export interface NodeServicesOptions {
  network: NodeNetwork;
  nodeId: string;
  log: Logger;
}

const DNS_PORT = 53;

/**
 * What makes `NAME.service.cube:<container port>` work in this node's containers: the node's own
 * network (containers join it), a DNS server on its gateway, one address per service on its bridge,
 * and a proxy on each service address and container port that forwards to a healthy endpoint
 * wherever it runs. It follows the catalog (apply), converging from whatever the last run left.
 */
export class NodeServices {
  private services = new Map<string, ServiceView>();
  private assigned = new Map<string, string>();
  private readonly proxies = new Map<string, ServiceProxy>();
  private latest: ServiceRoutes | null = null;
  private syncing: Promise<void> | null = null;
  private dns: ServiceDns | null = null;

  private constructor(
    private readonly info: NodeNetworkInfo,
    private readonly range: Cidr,
    private readonly addresses: HostAddresses,
    private readonly options: NodeServicesOptions,
  ) {}

  /** Creates or finds the node's network, removes service addresses a worker that died left behind, and starts the DNS server. */
  static async start(options: NodeServicesOptions): Promise<NodeServices> {
    const info = await options.network.ensure(options.nodeId);
    const range = parseCidr(info.serviceRange);
    const addresses = new HostAddresses(info.bridge);
    for (const address of await addresses.list()) if (contains(range, parseIpv4(address))) await addresses.remove(address);
    const services = new NodeServices(info, range, addresses, options);
    const upstreams = hostResolvers();
    services.dns = await ServiceDns.start({ address: info.gateway, port: DNS_PORT, lookup: (name) => services.lookup(name), upstreams, log: options.log });
    options.log.info("services: containers resolve NAME.service.cube here", { network: info.name, dns: info.gateway, upstreams: upstreams.join(",") || "none" });
    return services;
  }

  /** Where the node's task containers go. */
  get taskNetwork(): TaskNetwork {
    return { name: this.info.name, dns: [this.info.gateway] };
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

  /** Stops the DNS server and the proxies and takes the service addresses away; `removeNetwork` once no container uses it. */
  async stop(removeNetwork: boolean): Promise<void> {
    this.latest = null;
    await this.syncing;
    await this.dns?.stop();
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    this.proxies.clear();
    for (const address of this.assigned.values()) await this.addresses.remove(address).catch(() => undefined);
    this.assigned.clear();
    if (removeNetwork) await this.options.network.remove(this.options.nodeId).catch((err: Error) => this.options.log.warn("could not remove the node's network", { error: err.message }));
  }

  private lookup(name: string): ServiceAddress | undefined {
    const service = this.services.get(name);
    const address = this.assigned.get(name);
    if (!service || address === undefined) return undefined;
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
      this.range,
      this.assigned,
    );
    const wanted = new Map<string, { service: string; address: string; port: number }>();
    for (const service of routes.services) {
      const address = next.get(service.name);
      if (address === undefined) {
        log.warn("no service address left for a service on this node", { service: service.name, range: this.info.serviceRange });
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
