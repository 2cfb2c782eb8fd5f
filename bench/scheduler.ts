/**
 * Scheduler throughput on synthetic clusters (no Docker, no store): jobs of mixed sizes, ~20% with a
 * constraint and ~10% with a spread, placed through `placeTasks` one job at a time against one
 * ClusterIndex, each placement added to it as the reconciler does. Every scenario runs in its own
 * process, so its peak RSS is its own.
 *   bun bench/scheduler.ts [--json] [--exhaustive]
 * --exhaustive adds a scenario that filters and scores every node per placement (the old behaviour, what
 * `cube plan` does), on 5,000 tasks; its RSS is high because each placement lists all 5,000 scored nodes.
 * The packing scenarios measure how tightly binpack packs: 200 jobs of 10 tasks placed one job after
 * another on 1,000 empty 8-core nodes, once as placed and once exhaustively, and the nodes each used
 * (`ratio` = nodes used ÷ nodes used by the exhaustive search); "uniform" has half-core tasks (125
 * nodes at the least), "mixed" tasks of mixed sizes, 20% of the jobs constrained.
 */
import type { Constraint, JobSpec, Spread, TaskSpec } from "../src/model/job.ts";
import type { Node } from "../src/model/node.ts";
import { type Algorithm, ClusterIndex, placeTasks } from "../src/scheduler/index.ts";
import { seededRandom } from "../src/scheduler/seeded-random.ts";
import { jsonOutput, report, round } from "./stats.ts";

interface Scenario {
  scenario: string;
  algorithm: Algorithm;
  nodes: number;
  tasks: number;
  exhaustive?: boolean;
}

/** 20 tasks per node keeps every cluster about as full (~80% of cpu) whatever its size. */
const SCENARIOS: Scenario[] = [
  { scenario: "binpack", algorithm: "binpack", nodes: 1_000, tasks: 20_000 },
  { scenario: "binpack", algorithm: "binpack", nodes: 5_000, tasks: 100_000 },
  { scenario: "binpack", algorithm: "binpack", nodes: 10_000, tasks: 200_000 },
  { scenario: "spread", algorithm: "spread", nodes: 5_000, tasks: 100_000 },
  { scenario: "epvm", algorithm: "epvm", nodes: 5_000, tasks: 100_000 },
  { scenario: "round-robin", algorithm: "round-robin", nodes: 5_000, tasks: 100_000 },
];
const EXHAUSTIVE: Scenario = { scenario: "binpack-exhaustive", algorithm: "binpack", nodes: 5_000, tasks: 5_000, exhaustive: true };

const GIB = 1024;

function makeNodes(count: number): Node[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${(i * 2654435761 >>> 0).toString(16).padStart(8, "0")}-node-${i}`,
    name: `node-${i}`,
    address: `http://10.0.${i >> 8}.${i & 255}:7601`,
    datacenter: i % 2 === 0 ? "dc1" : "dc2",
    labels: { rack: `r${i % 50}`, disk: i % 3 === 0 ? "ssd" : "hdd" },
    capacity: { cpu: 8, memory: 16 * GIB, disk: 100 * GIB },
    stats: null,
    status: "ready",
    eligible: true,
    lastHeartbeat: 0,
    registeredAt: 0,
    version: "bench",
  }));
}

function pick<T>(random: () => number, weighted: [T, number][]): T {
  let r = random() * weighted.reduce((s, [, w]) => s + w, 0);
  for (const [value, w] of weighted) if ((r -= w) < 0) return value;
  return (weighted.at(-1) as [T, number])[0];
}

const SIZES: [number, number][] = [[1, 15], [3, 20], [10, 25], [30, 20], [100, 12], [300, 6], [1000, 2]];
const CPU: [number, number][] = [[0.1, 40], [0.25, 30], [0.5, 20], [1, 10]];
const MEMORY: [number, number][] = [[128, 30], [256, 30], [512, 25], [1024, 10], [2048, 5]];
const DISK: [number, number][] = [[0, 50], [100, 40], [1000, 10]];
const CONSTRAINTS: Constraint[][] = [
  [{ attribute: "node.label.disk", operator: "=", value: "ssd" }],
  [{ attribute: "node.datacenter", operator: "=", value: "dc2" }],
  [{ attribute: "node.label.rack", operator: "regexp", value: "^r[0-2]" }],
  [{ attribute: "node.id", operator: "distinct_hosts", value: "true" }],
];
const SPREADS: Spread[][] = [[{ attribute: "node.datacenter", weight: 50 }], [{ attribute: "node.label.rack", weight: 50 }]];

/** Jobs until `total` tasks, mixed in size and shape, the same for every run and scenario of a size. */
function makeJobs(total: number): JobSpec[] {
  const random = seededRandom(`jobs-${total}`);
  const jobs: JobSpec[] = [];
  for (let placed = 0, j = 0; placed < total; j++) {
    const count = Math.min(pick(random, SIZES), total - placed);
    placed += count;
    const shape = random();
    const group: TaskSpec = {
      name: "main",
      image: "bench",
      count,
      env: {},
      labels: {},
      resources: { cpu: pick(random, CPU), memory: pick(random, MEMORY), disk: pick(random, DISK) },
      // A few jobs ask for a fixed host port, one per node.
      ports: shape > 0.98 ? [{ name: "http", container: 80, host: 20_000 + j }] : [],
      restart: { attempts: 2, intervalMs: 60_000, delayMs: 1_000, mode: "fail" },
      constraints: shape < 0.2 ? (CONSTRAINTS[j % CONSTRAINTS.length] as Constraint[]) : [],
      ...(shape >= 0.2 && shape < 0.3 ? { spread: SPREADS[j % SPREADS.length] as Spread[] } : {}),
    };
    jobs.push({ name: `job-${j}`, type: "service", datacenters: [], constraints: [], tasks: [group] });
  }
  return jobs;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

function runScenario(s: Scenario): void {
  const nodes = makeNodes(s.nodes);
  const jobs = makeJobs(s.tasks);
  const indexStarted = performance.now();
  const cluster = ClusterIndex.of({ nodes, tasks: [] });
  const indexMs = performance.now() - indexStarted;
  const perPlacementUs = new Float64Array(s.tasks);
  let placed = 0;
  let failed = 0;
  let busyMs = 0;
  let peakRss = process.memoryUsage().rss;
  jobs.forEach((job, j) => {
    const group = job.tasks[0] as TaskSpec;
    const indexes = Array.from({ length: group.count }, (_, i) => i);
    const started = performance.now();
    const result = placeTasks({ job, group, indexes, algorithm: s.algorithm, seed: `eval-${j}`, exhaustive: s.exhaustive }, cluster);
    for (const p of result.placements) {
      cluster.add({ id: `${job.name}-${p.index}`, job: job.name, group: group.name, nodeId: p.nodeId, resources: group.resources, reservedPorts: p.reservedPorts });
    }
    const elapsed = performance.now() - started;
    busyMs += elapsed;
    // Each task of the batch is charged the batch's average: what one placement cost here.
    perPlacementUs.fill((elapsed * 1000) / indexes.length, placed + failed, placed + failed + indexes.length);
    placed += result.placements.length;
    failed += result.failures.length;
    if (j % 16 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  });
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const sorted = perPlacementUs.slice(0, placed + failed).sort();
  const line = {
    scenario: s.scenario,
    nodes: s.nodes,
    tasks: s.tasks,
    placementsPerSec: Math.round(((placed + failed) / busyMs) * 1000),
    p50Us: round(percentile(sorted, 0.5), 1),
    p99Us: round(percentile(sorted, 0.99), 1),
    peakRssMb: Math.round(peakRss / 1024 / 1024),
    placed,
    failed,
    jobs: jobs.length,
    indexMs: round(indexMs, 1),
  };
  report(
    line,
    `${s.scenario.padEnd(18)} ${String(s.nodes).padStart(6)} nodes ${String(s.tasks).padStart(7)} tasks (${jobs.length} jobs): ` +
      `${line.placementsPerSec.toLocaleString("en")} placements/s, p50 ${line.p50Us} µs, p99 ${line.p99Us} µs, peak RSS ${line.peakRssMb} MB; ` +
      `${placed} placed, ${failed} unplaceable; index built in ${line.indexMs} ms`,
  );
}

interface Packing {
  scenario: "packing";
  workload: "uniform" | "mixed";
  nodes: number;
  jobs: number;
}

const PACKINGS: Packing[] = [
  { scenario: "packing", workload: "uniform", nodes: 1_000, jobs: 200 },
  { scenario: "packing", workload: "mixed", nodes: 1_000, jobs: 200 },
];
const TASKS_PER_JOB = 10;

function packingJobs({ workload, jobs }: Packing): JobSpec[] {
  const random = seededRandom(`packing-${workload}`);
  return Array.from({ length: jobs }, (_, j) => {
    const uniform = workload === "uniform";
    const group: TaskSpec = {
      name: "main",
      image: "bench",
      count: TASKS_PER_JOB,
      env: {},
      labels: {},
      resources: uniform ? { cpu: 0.5, memory: 256, disk: 0 } : { cpu: pick(random, CPU), memory: pick(random, MEMORY), disk: pick(random, DISK) },
      ports: [],
      restart: { attempts: 2, intervalMs: 60_000, delayMs: 1_000, mode: "fail" },
      constraints: !uniform && random() < 0.2 ? (CONSTRAINTS[j % CONSTRAINTS.length] as Constraint[]) : [],
    };
    return { name: `job-${j}`, type: "service", datacenters: [], constraints: [], tasks: [group] };
  });
}

/** Places the jobs one after another on empty nodes, each placement counted before the next job; returns how many nodes got a task and the time that took. */
function pack(p: Packing, exhaustive: boolean): { nodesUsed: number; placements: number; busyMs: number } {
  const cluster = ClusterIndex.of({ nodes: makeNodes(p.nodes), tasks: [] });
  const used = new Set<string>();
  let placements = 0;
  let busyMs = 0;
  packingJobs(p).forEach((job, j) => {
    const group = job.tasks[0] as TaskSpec;
    const started = performance.now();
    const result = placeTasks({ job, group, indexes: Array.from({ length: group.count }, (_, i) => i), algorithm: "binpack", seed: `eval-${j}`, exhaustive }, cluster);
    for (const placement of result.placements) {
      cluster.add({ id: `${job.name}-${placement.index}`, job: job.name, group: group.name, nodeId: placement.nodeId, resources: group.resources, reservedPorts: placement.reservedPorts });
      used.add(placement.nodeId);
    }
    busyMs += performance.now() - started;
    placements += group.count;
  });
  return { nodesUsed: used.size, placements, busyMs };
}

function runPacking(p: Packing): void {
  // 2,000 placements are over before the JIT has warmed up: the timed run is the second (both place the same).
  pack(p, false);
  const placed = pack(p, false);
  const exhaustive = pack(p, true);
  const line = {
    scenario: p.scenario,
    workload: p.workload,
    nodes: p.nodes,
    tasks: placed.placements,
    nodesUsed: placed.nodesUsed,
    exhaustiveNodesUsed: exhaustive.nodesUsed,
    ratio: round(placed.nodesUsed / exhaustive.nodesUsed, 3),
    placementsPerSec: Math.round((placed.placements / placed.busyMs) * 1000),
  };
  report(
    line,
    `packing ${p.workload.padEnd(8)} ${String(p.nodes).padStart(6)} nodes ${String(line.tasks).padStart(7)} tasks: ${line.nodesUsed} nodes used, ` +
      `${line.exhaustiveNodesUsed} exhaustively (ratio ${line.ratio}); ${line.placementsPerSec.toLocaleString("en")} placements/s`,
  );
}

const keyOf = (s: Scenario | Packing) => ("workload" in s ? `${s.scenario}-${s.workload}@${s.nodes}` : `${s.scenario}@${s.nodes}`);
const runOf = (s: Scenario | Packing) => ("workload" in s ? runPacking(s) : runScenario(s));

const only = process.argv.find((a) => a.startsWith("--scenario="))?.slice("--scenario=".length);
if (only !== undefined) {
  const s = [...SCENARIOS, EXHAUSTIVE, ...PACKINGS].find((x) => keyOf(x) === only);
  if (!s) throw new Error(`no scenario ${only}`);
  runOf(s);
} else {
  if (!jsonOutput) process.stdout.write(`scheduler bench: ${navigator.hardwareConcurrency} cpus, bun ${Bun.version}; each scenario in its own process\n`);
  const scenarios = [...SCENARIOS, ...(process.argv.includes("--exhaustive") ? [EXHAUSTIVE] : []), ...PACKINGS];
  for (const s of scenarios) {
    const child = Bun.spawnSync([process.execPath, import.meta.path, `--scenario=${keyOf(s)}`, ...(jsonOutput ? ["--json"] : [])], { stdout: "pipe", stderr: "inherit" });
    if (child.exitCode !== 0) throw new Error(`scenario ${keyOf(s)} failed`);
    process.stdout.write(child.stdout.toString());
  }
}
