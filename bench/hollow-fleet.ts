/**
 * A fleet of hollow nodes in one process, started by bench/fleet.ts (see hollow-fleet-process.ts, which
 * gives it the environment it needs). It registers the nodes, heartbeats each every 3 s (spread evenly
 * over the interval), keeps one assignment long-poll per node and reports tasks. It talks to its parent
 * in JSON lines on stdout: `registered` once, `progress` when the counters change, `final` when it stops —
 * on SIGTERM, SIGINT, or when its stdin closes (the parent is gone).
 *   CUBE_JOIN_TOKEN=… bun bench/hollow-fleet.ts --addr=URL --nodes=N --run=ID
 */
import type { RegisterRequest } from "../src/model/api-types.ts";
import { type FleetCounters, HollowNode, newCounters } from "./hollow-node.ts";
import { probeReportRoute, type ReportRoute } from "./hollow-reports.ts";

export type FleetMessage =
  | { type: "registered"; nodes: number; registerMs: number; route: ReportRoute }
  | ({ type: "progress"; at: number } & FleetCounters)
  | ({ type: "final"; at: number; cpuS: number; peakRssMb: number } & FleetCounters)
  | { type: "failed"; error: string };

const HEARTBEAT_INTERVAL_MS = 3_000;
const TICK_MS = 100;
const PROGRESS_MS = 50;
/** Registrations in flight at once: enough to keep the manager busy, few enough not to time out in its queue. */
const REGISTER_CONCURRENCY = 64;

function flag(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function send(message: FleetMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** What a hollow node says about itself: a big machine, so tiny tasks always fit; labelled with the run so only this run's jobs land on it. */
function registration(run: string, i: number): RegisterRequest {
  return {
    name: `hollow-${run}-${i}`,
    address: `http://hollow-${i}.invalid:7601`,
    datacenter: "dc1",
    labels: { hollow: run, rack: `r${i % 20}` },
    capacity: { cpu: 64, memory: 262_144, disk: 1_048_576 },
    version: "hollow",
  };
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

const base = flag("addr");
const joinToken = process.env.CUBE_JOIN_TOKEN;
const count = Number(flag("nodes"));
const run = flag("run");
if (!base || !joinToken || !run || !(count > 0)) throw new Error("hollow-fleet needs --addr, --nodes, --run and CUBE_JOIN_TOKEN; bench/fleet.ts starts it");

const stopping = new AbortController();
const counters = newCounters();
const nodes = Array.from({ length: count }, (_, i) => new HollowNode(base, registration(run, i), counters, stopping.signal));
const registered: HollowNode[] = [];
const watches: Promise<void>[] = [];

// One ticker for all heartbeats: each tick takes the next slice of the slots, so each node beats once
// per interval and the manager sees an even stream rather than bursts. Slots of nodes not yet registered pass.
const perTick = Math.ceil(count / (HEARTBEAT_INTERVAL_MS / TICK_MS));
let slot = 0;
const heartbeatTicker = setInterval(() => {
  for (let i = 0; i < perTick; i++) {
    void registered[slot]?.heartbeat();
    slot = (slot + 1) % count;
  }
}, TICK_MS);

let lastProgress = "";
const progressTicker = setInterval(() => {
  const snapshot = JSON.stringify(counters);
  if (snapshot === lastProgress) return;
  lastProgress = snapshot;
  send({ type: "progress", at: Date.now(), ...counters });
}, PROGRESS_MS);

let stopped = false;
async function stop(): Promise<void> {
  if (stopped) return;
  stopped = true;
  stopping.abort();
  clearInterval(heartbeatTicker);
  clearInterval(progressTicker);
  await Promise.allSettled(watches);
  const cpu = process.cpuUsage();
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  send({ type: "final", at: Date.now(), cpuS: Math.round((cpu.user + cpu.system) / 1e4) / 100, peakRssMb, ...counters });
  // Reports and heartbeats still in flight belong to a process that is ending; exiting drops them.
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.resume();

try {
  const started = performance.now();
  // The first node joins alone, so the report route is known before any node can be given a task.
  const [first, ...rest] = nodes as [HollowNode, ...HollowNode[]];
  await first.register(joinToken);
  registered.push(first);
  const route = await probeReportRoute(first.node);
  watches.push(first.watch(route));
  await eachLimited(rest, REGISTER_CONCURRENCY, async (node) => {
    if (stopping.signal.aborted) return;
    await node.register(joinToken);
    registered.push(node);
    watches.push(node.watch(route));
  });
  if (!stopping.signal.aborted) send({ type: "registered", nodes: registered.length, registerMs: Math.round(performance.now() - started), route });
} catch (err) {
  send({ type: "failed", error: (err as Error).message });
  await stop();
}
