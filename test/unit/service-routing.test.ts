import { afterAll, describe, expect, test } from "bun:test";
import dns2 from "dns2";
import { listenArg } from "../../src/cli/server-args.ts";
import { formatCidr, parseCidr, parseIpv4 } from "../../src/lib/ipv4.ts";
import { createLogger } from "../../src/lib/logger.ts";
import type { IngressView, ServiceEndpoint } from "../../src/model/api-types.ts";
import { pinnedAddress } from "../../src/worker/services/bridge-address.ts";
import { answerQuestion, RCODE } from "../../src/worker/services/dns-answers.ts";
import { endpointOrder } from "../../src/worker/services/endpoint-order.ts";
import { IngressProxy } from "../../src/worker/services/ingress-proxy.ts";
import { IngressTable } from "../../src/worker/services/ingress-table.ts";
import { assignAddresses } from "../../src/worker/services/service-addresses.ts";
import { candidateBlocks, serviceBlock } from "../../src/worker/services/service-block.ts";
import { resolversOf, ServiceDns } from "../../src/worker/services/service-dns.ts";

const { Packet } = dns2;
const log = createLogger("test", "error");

function endpoint(name: string, port: number, fields: Partial<ServiceEndpoint> = {}): ServiceEndpoint {
  return { task: name, name, node: "a", nodeId: "id-a", address: "127.0.0.1", port, containerPort: 8080, healthy: true, stopping: false, ...fields };
}

describe("a node's addresses", () => {
  test("the engine's bridge is pinned to the address it has, or to a random locally administered unicast one when it has none", () => {
    expect(pinnedAddress("1e:23:99:71:f2:46")).toBe("1e:23:99:71:f2:46");
    expect(pinnedAddress("00:00:00:00:00:00", () => new Uint8Array([0xff, 1, 2, 3, 4, 5]))).toBe("fe:01:02:03:04:05");
    const drawn = pinnedAddress("00:00:00:00:00:00");
    expect(drawn).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(Number.parseInt(drawn.slice(0, 2), 16) & 0x03).toBe(0x02);
  });

  test("each name gets an address of the range; names kept keep theirs; names beyond its room get none", () => {
    const range = { first: parseIpv4("198.18.3.2"), count: 253 };
    const first = assignAddresses(["web", "db"], range, new Map());
    expect(first.size).toBe(2);
    expect(new Set(first.values()).size).toBe(2);
    const again = assignAddresses(["web", "cache"], range, first);
    expect(again.get("web")).toBe(first.get("web"));
    expect(again.has("db")).toBe(false);
    const tiny = assignAddresses(["a", "b", "c"], { first: parseIpv4("198.18.0.2"), count: 2 }, new Map());
    expect([...tiny.values()].sort()).toEqual(["198.18.0.2", "198.18.0.3"]);
  });

  test("a node's block: the DNS server first, services after it; blocks overlapping what the host has are skipped", () => {
    expect(serviceBlock(parseCidr("198.18.7.0/24"))).toEqual({ block: parseCidr("198.18.7.0/24"), dns: "198.18.7.1", services: { first: parseIpv4("198.18.7.2"), count: 253 } });
    const all = candidateBlocks("node-1", []);
    expect(all).toHaveLength(512);
    expect(candidateBlocks("node-1", [])).toEqual(all);
    expect(formatCidr(candidateBlocks("node-2", [])[0] as NonNullable<(typeof all)[0]>)).not.toBe(formatCidr(all[0] as NonNullable<(typeof all)[0]>));
    const free = candidateBlocks("node-1", [parseCidr("198.18.0.0/16")]);
    expect(free).toHaveLength(256);
    expect(free.every((b) => formatCidr(b).startsWith("198.19."))).toBe(true);
  });

  test("--ingress takes ADDR:PORT", () => {
    expect(listenArg("ingress", "127.0.0.1:8080")).toEqual({ hostname: "127.0.0.1", port: 8080 });
    expect(listenArg("ingress", "[::1]:80")).toEqual({ hostname: "::1", port: 80 });
    expect(listenArg("ingress", ":80")).toEqual({ hostname: "0.0.0.0", port: 80 });
    expect(() => listenArg("ingress", "8080")).toThrow("--ingress must look like ADDR:PORT");
  });
});

describe("DNS answers", () => {
  const lookup = (name: string) => (name === "web" ? { address: "172.20.3.7", ports: [8080, 9090] } : undefined);

  test("A and SRV for a service; NXDOMAIN for an unknown one; an empty answer for another type; other names forwarded", () => {
    const a = answerQuestion({ name: "Web.Service.Cube", type: Packet.TYPE.A }, lookup);
    expect(a).toMatchObject({ forward: false, rcode: RCODE.NOERROR, answers: [{ type: Packet.TYPE.A, address: "172.20.3.7" }] });
    const srv = answerQuestion({ name: "_web._tcp.service.cube", type: Packet.TYPE.SRV }, lookup);
    expect(srv.forward === false && srv.answers.map((r) => [r.port, r.target])).toEqual([[8080, "web.service.cube"], [9090, "web.service.cube"]]);
    expect(answerQuestion({ name: "nope.service.cube", type: Packet.TYPE.A }, lookup)).toMatchObject({ rcode: RCODE.NXDOMAIN });
    expect(answerQuestion({ name: "web.service.cube", type: Packet.TYPE.AAAA }, lookup)).toMatchObject({ rcode: RCODE.NOERROR, answers: [] });
    expect(answerQuestion({ name: "example.com", type: Packet.TYPE.A }, lookup)).toEqual({ forward: true });
  });

  test("resolv.conf's nameservers, in order", () => {
    expect(resolversOf("# x\nsearch lan\nnameserver 10.0.0.2\nnameserver  ::1\noptions ndots:1\n")).toEqual(["10.0.0.2", "::1"]);
  });

  describe("the server, on real UDP and TCP sockets", () => {
    let upstream: ReturnType<typeof dns2.createServer> | undefined;
    const servers: ServiceDns[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await upstream?.close();
    });

    test("answers service names itself, forwards others to the host's resolver, and fails fast without one", async () => {
      upstream = dns2.createServer({
        udp: true,
        handle: (request, send) => {
          const response = Packet.createResponseFromRequest(request);
          response.answers.push({ name: request.questions[0]?.name ?? "", type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 60, address: "192.0.2.10" } as dns2.Packet.Resource);
          send(response);
        },
      });
      const upstreamPort = (await upstream.listen({ udp: { port: 0, address: "127.0.0.1" } })).udp?.port as number;
      const dns = await ServiceDns.start({ address: "127.0.0.1", port: 0, lookup, upstreams: [], log });
      servers.push(dns);
      const ask = (name: string, type: string, port = dns.ports.udp) => dns2.UDPClient({ dns: "127.0.0.1", port, timeout: 3_000 })(name, type);
      expect((await ask("web.service.cube", "A")).answers[0]?.address).toBe("172.20.3.7");
      const tcp = await dns2.TCPClient({ dns: "127.0.0.1", port: dns.ports.tcp })("web.service.cube", "A");
      expect(tcp.answers[0]?.address).toBe("172.20.3.7");
      const started = performance.now();
      expect((await ask("example.com", "A")).header.rcode).toBe(RCODE.SERVFAIL);
      expect(performance.now() - started).toBeLessThan(1_000);
      // A forwarder whose upstream is the local test resolver (its port given as 127.0.0.1's resolver would be on 53).
      const forwarding = await ServiceDns.start({ address: "127.0.0.1", port: 0, lookup, upstreams: ["127.0.0.1"], log, upstreamPort });
      servers.push(forwarding);
      expect((await ask("example.com", "A", forwarding.ports.udp)).answers[0]?.address).toBe("192.0.2.10");
    });
  });
});

describe("endpoints and ingress routes", () => {
  test("round robin over healthy endpoints not being stopped; stopping ones only when nothing else is healthy", () => {
    const [a, b, c] = [endpoint("a", 1), endpoint("b", 2), endpoint("c", 3, { healthy: false })];
    expect(endpointOrder([a, b, c], 0).map((e) => e.name)).toEqual(["a", "b"]);
    expect(endpointOrder([a, b, c], 1).map((e) => e.name)).toEqual(["b", "a"]);
    const stopping = endpoint("s", 4, { stopping: true });
    expect(endpointOrder([stopping, a], 0).map((e) => e.name)).toEqual(["a"]);
    expect(endpointOrder([stopping, c], 0).map((e) => e.name)).toEqual(["s"]);
    expect(endpointOrder([c], 0)).toEqual([]);
  });

  test("by host (port and case ignored) and the longest whole-segment path prefix", () => {
    const route = (host: string, path: string): IngressView => ({ host, path, job: `${host}${path}`, endpoints: [] });
    const table = new IngressTable([route("shop.example.com", "/"), route("shop.example.com", "/api"), route("other.example.com", "/x/")]);
    expect(table.match("Shop.Example.com:8080", "/api/v1")?.path).toBe("/api");
    expect(table.match("shop.example.com", "/api")?.path).toBe("/api");
    expect(table.match("shop.example.com", "/apis")?.path).toBe("/");
    expect(table.match("other.example.com", "/x")).toBeUndefined();
    expect(table.match("other.example.com", "/x/y")?.path).toBe("/x/");
    expect(table.match("unknown.example.com", "/")).toBeUndefined();
  });
});

describe("the ingress proxy, against real local servers", () => {
  const seen: { host: string | null; xff: string | null; proto: string | null; fwdHost: string | null; body: string }[] = [];
  const backend = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      seen.push({ host: request.headers.get("host"), xff: request.headers.get("x-forwarded-for"), proto: request.headers.get("x-forwarded-proto"), fwdHost: request.headers.get("x-forwarded-host"), body: await request.text() });
      return new Response(`backend ${new URL(request.url).pathname}`, { headers: { "x-backend": "1" } });
    },
  });
  const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const refusing = closed.port;
  closed.stop(true);
  afterAll(() => backend.stop(true));

  const proxy = new IngressProxy(log);
  proxy.update([
    { host: "shop.example.com", path: "/", job: "shop", endpoints: [endpoint("refuses", refusing), endpoint("serves", backend.port as number)] },
    { host: "down.example.com", path: "/", job: "down", endpoints: [endpoint("sick", backend.port as number, { healthy: false })] },
  ]);
  const ask = (host: string, path: string, init: RequestInit = {}) => proxy.handle(new Request(`http://ingress.local${path}`, { ...init, headers: { host, ...(init.headers as Record<string, string>) } }), "203.0.113.9");

  test("routes by host with X-Forwarded-*, retries a replica that refuses, and passes the answer back", async () => {
    for (let i = 0; i < 4; i++) {
      const response = await ask("shop.example.com", "/cart?x=1", { headers: { "x-forwarded-for": "198.51.100.1" } });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("backend /cart");
      expect(response.headers.get("x-backend")).toBe("1");
    }
    expect(seen.at(-1)).toEqual({ host: "shop.example.com", xff: "198.51.100.1, 203.0.113.9", proto: "http", fwdHost: "shop.example.com", body: "" });
  });

  test("a request body goes through, also after a replica refused the connection", async () => {
    const response = await ask("shop.example.com", "/orders", { method: "POST", body: "one order", headers: { "content-length": "9" } });
    expect(response.status).toBe(200);
    expect(seen.at(-1)?.body).toBe("one order");
  });

  test("an unknown host is a 404 with a short text; a route without a healthy endpoint a 503", async () => {
    const unknown = await ask("nobody.example.com", "/");
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe("no ingress route for nobody.example.com/\n");
    expect((await ask("down.example.com", "/")).status).toBe(503);
  });
});
