import dns2 from "dns2";
import { jobServiceName, SERVICE_ZONE } from "../../model/service-names.ts";

const { Packet } = dns2;

/** The zone this node's DNS server answers itself; every other name goes to the host's resolvers. */
export { SERVICE_ZONE };
/** Short: an address changes when a worker restarts, and endpoints move behind it anyway. */
const TTL_S = 5;

/** A service as the DNS server sees it: its address on this node's network and the container ports proxied there. */
export interface ServiceAddress {
  address: string;
  ports: readonly number[];
}

export type DnsRecord = Partial<dns2.Packet.Resource> & { name: string; type: number; class: number; ttl: number };

/** What to answer one question with: records (rcode 0 = NOERROR, 3 = NXDOMAIN), or "ask the host's resolvers". */
export type DnsAnswer = { forward: false; rcode: number; answers: DnsRecord[]; additionals: DnsRecord[] } | { forward: true };

export const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

/** Finds a service by name; with `job`, only one that job publishes. */
export type ServiceLookup = (service: string, job?: string) => ServiceAddress | undefined;

/**
 * Answers a question about `NAME.service.cube` (A: the service's address here; SRV, also as
 * `_NAME._tcp.service.cube`: its container ports) from `lookup`; `NAME.JOB.service.cube` is the
 * service `JOB-NAME` of job JOB (what a job's containers find by the bare NAME: see jobSearchDomain).
 * A name in the zone that no service has is NXDOMAIN, another record type of a known name is an
 * empty answer. Names outside the zone are forwarded.
 * @example answerQuestion({ name: "web.service.cube", type: 1 }, lookup) // { forward: false, rcode: 0, answers: [A 172.20.3.7] }
 */
export function answerQuestion(question: { name: string; type: number }, lookup: ServiceLookup): DnsAnswer {
  const name = question.name.toLowerCase().replace(/\.$/, "");
  if (name !== SERVICE_ZONE && !name.endsWith(`.${SERVICE_ZONE}`)) return { forward: true };
  const labels = name.slice(0, -SERVICE_ZONE.length - 1).split(".");
  const srvForm = labels.length === 2 && labels[0]?.startsWith("_") && labels[1] === "_tcp";
  const ofJob = !srvForm && labels.length === 2 ? { name: jobServiceName(labels[1] as string, labels[0] as string), job: labels[1] as string } : undefined;
  const service = srvForm ? labels[0]?.slice(1) : labels.length === 1 ? labels[0] : ofJob?.name;
  const found = service ? lookup(service, ofJob?.job) : undefined;
  if (!service || !found) return { forward: false, rcode: RCODE.NXDOMAIN, answers: [], additionals: [] };
  const host = `${service}.${SERVICE_ZONE}`;
  const a: DnsRecord = { name: host, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: TTL_S, address: found.address };
  if (question.type === Packet.TYPE.A && !srvForm) return { forward: false, rcode: RCODE.NOERROR, answers: [{ ...a, name: question.name }], additionals: [] };
  if (question.type === Packet.TYPE.SRV) {
    const answers = found.ports.map((port) => ({ name: question.name, type: Packet.TYPE.SRV, class: Packet.CLASS.IN, ttl: TTL_S, priority: 0, weight: 1, port, target: host }));
    return { forward: false, rcode: RCODE.NOERROR, answers, additionals: answers.length > 0 ? [a] : [] };
  }
  return { forward: false, rcode: RCODE.NOERROR, answers: [], additionals: [] };
}

/** The record type's name dns2's clients take (`1` → `"A"`), or undefined for one it does not know. */
export function typeName(type: number): string | undefined {
  return Object.entries(Packet.TYPE).find(([, value]) => value === type)?.[0];
}
