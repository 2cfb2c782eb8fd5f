import dns2 from "dns2";
import { readFileSync } from "node:fs";
import type { Logger } from "../../lib/logger.ts";
import { answerQuestion, RCODE, type ServiceLookup, typeName } from "./dns-answers.ts";

const { Packet } = dns2;

/** A host resolver that does not answer in this long gets a SERVFAIL back (the container's resolver tries again). */
const FORWARD_TIMEOUT_MS = 2_000;

/** The nameservers of a resolv.conf, in order. */
export function resolversOf(resolvConf: string): string[] {
  return resolvConf
    .split("\n")
    .map((line) => /^\s*nameserver\s+(\S+)/.exec(line)?.[1])
    .filter((address): address is string => address !== undefined);
}

/** The host's resolvers (none when /etc/resolv.conf is missing or lists none). */
export function hostResolvers(path = "/etc/resolv.conf"): string[] {
  try {
    return resolversOf(readFileSync(path, "utf8"));
  } catch {
    return [];
  }
}

export interface ServiceDnsOptions {
  address: string;
  port: number;
  lookup: ServiceLookup;
  /** Where names outside service.cube go; none means they fail at once (SERVFAIL). */
  upstreams: string[];
  /** The port the upstreams answer on (53). */
  upstreamPort?: number;
  log: Logger;
}

/**
 * The node's DNS server (UDP and TCP), the resolver of every container on the node's network (the
 * engine's embedded resolver forwards to it): it answers `NAME.service.cube` itself and asks the
 * host's resolvers about everything else, failing fast when they do not answer.
 */
export class ServiceDns {
  private constructor(
    private readonly server: dns2.DnsServer,
    /** Where it listens (both the given port, unless that was 0). */
    readonly ports: { udp: number; tcp: number },
  ) {}

  static async start(options: ServiceDnsOptions): Promise<ServiceDns> {
    const server = dns2.createServer({
      udp: true,
      tcp: true,
      handle: (request, send) => {
        void respond(request, options)
          .catch((err: Error) => {
            options.log.warn("dns answer failed", { error: err.message });
            return reply(request, RCODE.SERVFAIL);
          })
          .then((response) => send(response))
          // A client that went away before its answer came (the port is closed now) is no failure of ours.
          .catch((err: Error) => options.log.debug("dns answer not delivered", { error: err.message }));
      },
    });
    server.on("requestError", (err: Error) => options.log.debug("malformed dns request", { error: err.message }));
    const bound = await Promise.race([
      server.listen({ udp: { port: options.port, address: options.address }, tcp: { port: options.port, address: options.address } }),
      new Promise<never>((_, reject) => server.once("error", reject)),
    ]);
    return new ServiceDns(server, { udp: bound.udp?.port ?? options.port, tcp: bound.tcp?.port ?? options.port });
  }

  async stop(): Promise<void> {
    await this.server.close();
  }
}

async function respond(request: dns2.Packet, options: ServiceDnsOptions): Promise<dns2.Packet> {
  const question = request.questions[0];
  if (!question) return reply(request, RCODE.SERVFAIL);
  const answer = answerQuestion(question, options.lookup);
  if (!answer.forward) {
    const response = reply(request, answer.rcode);
    response.header.aa = 1;
    response.answers.push(...(answer.answers as dns2.Packet.Resource[]));
    response.additionals.push(...(answer.additionals as dns2.Packet.Resource[]));
    return response;
  }
  const type = typeName(question.type);
  if (options.upstreams.length === 0 || type === undefined) return reply(request, RCODE.SERVFAIL);
  const ask = (server: string) => dns2.UDPClient({ dns: server, port: options.upstreamPort ?? 53, timeout: FORWARD_TIMEOUT_MS })(question.name, type);
  const upstream = await Promise.any(options.upstreams.map(ask)).catch(() => null);
  if (!upstream) return reply(request, RCODE.SERVFAIL);
  const response = reply(request, upstream.header.rcode);
  response.answers.push(...upstream.answers);
  response.authorities.push(...upstream.authorities);
  return response;
}

function reply(request: dns2.Packet, rcode: number): dns2.Packet {
  const response = Packet.createResponseFromRequest(request);
  response.header.rcode = rcode;
  response.header.ra = 1;
  return response;
}
