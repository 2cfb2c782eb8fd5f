import { describe, expect, test } from "bun:test";
import type { Constraint, Resources, Spread, TaskSpec } from "../../src/model/job.ts";
import type { Node } from "../../src/model/node.ts";
import { SEARCHED } from "../../src/scheduler/algorithms.ts";
import { ALGORITHMS, candidateLimit, ClusterIndex, placeTasks, type ClusterSnapshot, type PlacementResult } from "../../src/scheduler/index.ts";
import { MIN_CANDIDATES } from "../../src/scheduler/node-scan.ts";
import { SeededOrder } from "../../src/scheduler/seeded-order.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { makeJob, makeNode, place, placedOn } from "./scheduler-fixtures.ts";

/** A placement result without the exhaustive-only `rejected` lists, to compare the two modes. */
function withoutRejected(result: PlacementResult): PlacementResult {
  return { placements: result.placements.map(({ rejected: _, ...p }) => p), failures: result.failures };
}

const pickOne = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/**
 * A cluster of `size` nodes over 2 datacenters and 10 racks, some nodes down or ineligible, with random
 * live tasks; nodes of 9 shapes and two disk sizes, or all alike (`alike`), where equal nodes tie.
 */
function syntheticCluster(size: number, seed: string, liveTasks = size * 2, alike = false): ClusterSnapshot {
  const random = seededRandom(seed);
  const nodes: Node[] = Array.from({ length: size }, (_, i) =>
    makeNode(`n${i}`, {
      datacenter: i % 2 === 0 ? "dc1" : "dc2",
      labels: { rack: `r${i % 10}`, ...(i % 3 === 0 ? { disk: "ssd" } : {}) },
      capacity: alike ? { cpu: 4, memory: 4096, disk: 10_000 } : { cpu: pickOne(random, [2, 4, 8]), memory: pickOne(random, [2048, 4096, 8192]), disk: pickOne(random, [10_000, 10_000, 500]) },
      status: random() < 0.05 ? "down" : "ready",
      eligible: random() > 0.03,
    }),
  );
  const tasks = Array.from({ length: liveTasks }, (_, i) => ({
    id: `live-${i}`,
    job: pickOne(random, ["db", "cache", "web"]),
    group: "http",
    nodeId: `id-n${Math.floor(random() * size)}`,
    resources: { cpu: pickOne(random, [0.1, 0.5, 1]), memory: pickOne(random, [128, 512, 1024]), disk: pickOne(random, [0, 0, 100]) },
    reservedPorts: (random() < 0.1 ? { http: 8080 } : {}) as Record<string, number>,
  }));
  return { nodes, tasks };
}

describe("candidateLimit", () => {
  test("⌈log₂ n⌉ feasible nodes, never fewer than MIN_CANDIDATES", () => {
    expect(MIN_CANDIDATES).toBe(16);
    expect([1, 16, 1_000, 5_000, 65_536, 100_000, 1_000_000].map(candidateLimit)).toEqual([16, 16, 16, 16, 16, 17, 20]);
  });
});

describe("limited and exhaustive mode on small clusters", () => {
  test("give identical placements and failures on clusters of up to MIN_CANDIDATES nodes", () => {
    const random = seededRandom("small-clusters");
    let compared = 0;
    for (let round = 0; round < 60; round++) {
      const size = 1 + Math.floor(random() * MIN_CANDIDATES);
      const cluster = syntheticCluster(size, `small-${round}`, Math.floor(random() * size * 4));
      const constraints: Constraint[] = random() < 0.3 ? [{ attribute: "node.label.disk", operator: "=", value: "ssd" }] : [];
      const spread: Spread[] | undefined = random() < 0.3 ? [{ attribute: "node.label.rack", weight: 50 }] : undefined;
      const resources: Resources = { cpu: pickOne(random, [0.5, 1, 2]), memory: pickOne(random, [256, 1024, 3000]), disk: 0 };
      const ports = random() < 0.2 ? [{ name: "http", container: 80, host: 8080 }] : [];
      const job = makeJob("web", { count: 1 + Math.floor(random() * 8), resources, constraints, ports, ...(spread ? { spread } : {}) });
      for (const algorithm of ALGORITHMS.filter((a) => !SEARCHED[a])) {
        const limited = place(algorithm, job, cluster.nodes, cluster.tasks, { seed: `s${round}` });
        const exhaustive = place(algorithm, job, cluster.nodes, cluster.tasks, { seed: `s${round}`, exhaustive: true });
        expect(withoutRejected(limited)).toEqual(withoutRejected(exhaustive));
        compared += limited.placements.length + limited.failures.length;
      }
    }
    expect(compared).toBeGreaterThan(250);
  });

  test("exhaustive mode records every rejected node next to every candidate", () => {
    const cluster = syntheticCluster(6, "every-node");
    const [placement] = place("binpack", makeJob("web", { constraints: [{ attribute: "node.datacenter", operator: "=", value: "dc1" }] }), cluster.nodes, cluster.tasks, { exhaustive: true }).placements;
    expect((placement?.candidates.length ?? 0) + (placement?.rejected?.length ?? 0)).toBe(6);
    expect(placement?.rejected?.some((r) => r.reason === "constraint node.datacenter = dc1 failed")).toBe(true);
  });
});

/** What a placement decides, without the nodes scored on the way (a search scores fewer than a scan). */
const decided = (result: PlacementResult) => result.placements.map(({ index, nodeId, reservedPorts, score }) => ({ index, nodeId, reservedPorts, score }));

describe("search and exhaustive mode", () => {
  test("binpack and E-PVM search out the node an exhaustive scan picks, with the same score, on random clusters", () => {
    const random = seededRandom("search-exhaustive");
    const distinct: Constraint = { attribute: "node.id", operator: "distinct_hosts", value: "true" };
    const ssd: Constraint = { attribute: "node.label.disk", operator: "=", value: "ssd" };
    let compared = 0;
    let tied = 0;
    for (let round = 0; round < 150; round++) {
      const size = 1 + Math.floor(random() * 150);
      const cluster = syntheticCluster(size, `search-${round}`, Math.floor(random() * size * 6), random() < 0.5);
      const constraints = random() < 0.3 ? [pickOne(random, [distinct, ssd])] : [];
      const attribute = pickOne(random, ["node.label.rack", "node.datacenter", "node.label.disk"]);
      const spread: Spread[] | undefined = random() < 0.3 ? [{ attribute, weight: pickOne(random, [0, 20, 50, 100]) }] : undefined;
      const resources: Resources = { cpu: pickOne(random, [0.1, 0.5, 1, 2]), memory: pickOne(random, [0, 256, 1024, 3000]), disk: pickOne(random, [0, 0, 100, 600]) };
      const ports = random() < 0.2 ? [{ name: "http", container: 80, host: 8080 }] : [];
      // "web" and "db" have replicas running in the synthetic cluster already (group "http"), "api" none.
      const job = makeJob(pickOne(random, ["web", "db", "api"]), { count: 1 + Math.floor(random() * 40), resources, constraints, ports, ...(spread ? { spread } : {}) });
      const indexes = Array.from({ length: (job.tasks[0] as TaskSpec).count }, (_, i) => i + 3);
      // Now and then an image only some nodes have.
      const imageOn = random() < 0.15 ? { nodes: new Set(cluster.nodes.filter(() => random() < 0.3).map((n) => n.id)), reason: "image not on the node" } : undefined;
      for (const algorithm of ALGORITHMS.filter((a) => SEARCHED[a])) {
        const searched = place(algorithm, job, cluster.nodes, cluster.tasks, { seed: `s${round}`, indexes, ...(imageOn ? { imageOn } : {}) });
        const scanned = place(algorithm, job, cluster.nodes, cluster.tasks, { seed: `s${round}`, indexes, exhaustive: true, ...(imageOn ? { imageOn } : {}) });
        expect(decided(searched)).toEqual(decided(scanned));
        expect(searched.failures).toEqual(scanned.failures);
        compared += searched.placements.length;
        tied += scanned.placements.filter((p) => p.candidates.filter((c) => c.total === p.score.total).length > 1).length;
      }
    }
    expect(compared).toBeGreaterThan(3_000);
    expect(tied).toBeGreaterThan(500);
  });

  test("on equal empty nodes each replica scores one node: the search looks at no sample", () => {
    const { nodes } = syntheticCluster(2_000, "alike", 0, true);
    const ready = nodes.map((n) => ({ ...n, status: "ready" as const, eligible: true }));
    for (const algorithm of ALGORITHMS.filter((a) => SEARCHED[a])) {
      const result = place(algorithm, makeJob("web", { count: 5 }), ready, []);
      expect(result.placements.map((p) => p.candidates.length)).toEqual([1, 1, 1, 1, 1]);
      expect(new Set(placedOn(result)).size).toBe(5);
    }
  });
});

describe("limited mode on 2,000 nodes", () => {
  const big = syntheticCluster(2_000, "big");
  const limit = candidateLimit(2_000);

  test("each replica scores the limit of feasible nodes, and the next replica scans on to other nodes", () => {
    const empty = { nodes: big.nodes.map((n) => ({ ...n, status: "ready" as const, eligible: true })), tasks: [] };
    const result = place("spread", makeJob("web", { count: 5 }), empty.nodes, empty.tasks);
    expect(result.placements.map((p) => p.candidates.length)).toEqual([limit, limit, limit, limit, limit]);
    const seen = result.placements.flatMap((p) => p.candidates.map((c) => c.nodeId));
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(placedOn(result)).size).toBe(5);
  });

  test("every pick is feasible: resources, ports, constraints, datacenters, status", () => {
    const constraints: Constraint[] = [{ attribute: "node.label.disk", operator: "=", value: "ssd" }];
    for (const algorithm of ALGORITHMS) {
      const job = makeJob("web", { count: 300, resources: { cpu: 0.5, memory: 700, disk: 0 }, constraints, ports: [{ name: "http", container: 80, host: 9090 }] }, { datacenters: ["dc2"] });
      const result = place(algorithm, job, big.nodes, big.tasks, { seed: `feasible-${algorithm}` });
      expect(result.placements.length).toBeGreaterThan(100);
      const used = new Map<string, { cpu: number; memory: number; replicas: number }>();
      for (const t of big.tasks) {
        const u = used.get(t.nodeId as string) ?? { cpu: 0, memory: 0, replicas: 0 };
        used.set(t.nodeId as string, { cpu: u.cpu + t.resources.cpu, memory: u.memory + t.resources.memory, replicas: 0 });
      }
      const byId = new Map(big.nodes.map((n) => [n.id, n]));
      for (const p of result.placements) {
        const node = byId.get(p.nodeId) as Node;
        expect(node.status === "ready" && node.eligible && node.datacenter === "dc2" && node.labels.disk === "ssd").toBe(true);
        expect(big.tasks.some((t) => t.nodeId === p.nodeId && t.reservedPorts.http === 9090)).toBe(false);
        const u = used.get(p.nodeId) ?? { cpu: 0, memory: 0, replicas: 0 };
        used.set(p.nodeId, { cpu: u.cpu + 0.5, memory: u.memory + 700, replicas: u.replicas + 1 });
      }
      for (const [id, u] of used) {
        const node = byId.get(id) as Node;
        if (u.replicas === 0) continue;
        expect(u.replicas).toBe(1); // the static port allows one per node
        expect(u.cpu).toBeLessThanOrEqual(node.capacity.cpu + 1e-9);
        expect(u.memory).toBeLessThanOrEqual(node.capacity.memory);
      }
    }
  });

  test("is deterministic: same seed, same result, whatever the order of nodes and tasks", () => {
    for (const algorithm of ALGORITHMS) {
      const job = makeJob("web", { count: 50 });
      const first = place(algorithm, job, big.nodes, big.tasks, { seed: "again" });
      expect(place(algorithm, job, big.nodes, big.tasks, { seed: "again" })).toEqual(first);
      expect(place(algorithm, job, [...big.nodes].reverse(), [...big.tasks].reverse(), { seed: "again" })).toEqual(first);
      expect(placedOn(place(algorithm, job, big.nodes, big.tasks, { seed: "other" }))).not.toEqual(placedOn(first));
    }
  });

  test("a replica that fits nowhere is explained from every node", () => {
    const [failure] = place("binpack", makeJob("web", { resources: { cpu: 64, memory: 1, disk: 0 } }), big.nodes, big.tasks).failures;
    expect(Object.values(failure?.reasons ?? {}).reduce((a, b) => a + b, 0)).toBe(2_000);
    expect(failure?.rejected).toHaveLength(2_000);
  });

  test("a spread over 10 racks evens out exactly, also from an uneven start", () => {
    const nodes = big.nodes.map((n) => ({ ...n, status: "ready" as const, eligible: true }));
    // "api": the synthetic cluster runs other jobs only.
    const job = makeJob("api", { count: 30, spread: [{ attribute: "node.label.rack", weight: 50 }] });
    const rackOf = new Map(nodes.map((n) => [n.id, n.labels.rack]));
    const perRack = (result: PlacementResult, start: string[] = []) => {
      const counts = new Map<string, number>();
      for (const rack of [...start, ...result.placements.map((p) => rackOf.get(p.nodeId) as string)]) counts.set(rack, (counts.get(rack) ?? 0) + 1);
      return [...counts.values()];
    };
    for (const algorithm of ALGORITHMS) {
      expect(perRack(place(algorithm, job, nodes, big.tasks, { seed: algorithm }))).toEqual(Array(10).fill(3));
      // Five replicas already in rack r0 (nodes n0, n10, …): the other 25 go to the 9 other racks, 2 or 3 each.
      const running = [0, 10, 20, 30, 40].map((i) => ({ id: `w${i}`, job: "api", group: "http", nodeId: `id-n${i}`, resources: { cpu: 0.5, memory: 256, disk: 0 }, reservedPorts: {} }));
      const rest = place(algorithm, job, nodes, [...big.tasks, ...running], { seed: algorithm, indexes: Array.from({ length: 25 }, (_, i) => i + 5) });
      expect(perRack(rest, Array(5).fill("r0")).sort()).toEqual([2, 2, 3, 3, 3, 3, 3, 3, 3, 5]);
    }
  });

  test("a system job's single target is placed without a scan of the others", () => {
    // A scan of every node would reject all but the target and place the same, so count the nodes read instead.
    const read = new Set<string>();
    const watched = big.nodes.map(
      (n) =>
        new Proxy(n, {
          get(node, key) {
            read.add(node.id);
            return Reflect.get(node, key);
          },
        }),
    );
    const cluster = ClusterIndex.of({ nodes: watched, tasks: big.tasks });
    read.clear();
    const target = big.nodes.find((n) => n.status === "ready" && n.eligible) as Node;
    const job = makeJob("agent");
    const group = job.tasks[0] as (typeof job.tasks)[number];
    const result = placeTasks({ job, group, indexes: [0], algorithm: "binpack", seed: "s", onlyNodes: [target.id] }, cluster);
    expect(result.placements.map((p) => p.candidates.map((c) => c.nodeId))).toEqual([[target.id]]);
    expect([...read]).toEqual([target.id]);
  });
});

describe("ClusterIndex", () => {
  test("placeTasks leaves it as it was; add counts a placement written down", () => {
    const cluster = ClusterIndex.of({ nodes: [makeNode("a")], tasks: [] });
    const job = makeJob("web", { count: 2, resources: { cpu: 1, memory: 1024, disk: 0 } });
    const request = { job, group: job.tasks[0] as (typeof job.tasks)[number], indexes: [0, 1], algorithm: "binpack" as const, seed: "s" };
    expect(placeTasks(request, cluster).placements).toHaveLength(2);
    expect(cluster.usages[0]?.allocated).toEqual({ cpu: 0, memory: 0, disk: 0 });
    expect(placeTasks(request, cluster).placements).toHaveLength(2);
    cluster.add({ id: "t1", job: "db", group: "main", nodeId: "id-a", resources: { cpu: 3.5, memory: 100, disk: 0 }, reservedPorts: { http: 80 } });
    expect(cluster.usages[0]?.allocated).toEqual({ cpu: 3.5, memory: 100, disk: 0 });
    expect([...(cluster.usages[0]?.ports ?? [])]).toEqual([80]);
    expect(placeTasks(request, cluster).failures[0]?.reasons).toEqual({ "cpu exhausted: needs 1 cores, 0.5 free": 1 });
  });
});

describe("SeededOrder", () => {
  const dense = (size: number, seed: string) => {
    const random = seededRandom(seed);
    const order = Array.from({ length: size }, (_, i) => i);
    for (let i = 0; i < size; i++) {
      const j = i + Math.floor(random() * (size - i));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    return order;
  };

  test("read lazily, it is the same permutation as a forward Fisher–Yates with the same generator", () => {
    for (const size of [0, 1, 2, 5, 31, 32, 33, 100, 1_000]) {
      const order = new SeededOrder(size, seededRandom(`o${size}`));
      const read = Array.from({ length: size }, (_, k) => order.at(k));
      expect(read).toEqual(dense(size, `o${size}`));
      expect([...read].sort((a, b) => a - b)).toEqual(Array.from({ length: size }, (_, i) => i));
      expect([...new SeededOrder(size, seededRandom(`o${size}`)).all()]).toEqual(read);
    }
  });

  test("another seed, another order", () => {
    expect([...new SeededOrder(50, seededRandom("a")).all()]).not.toEqual([...new SeededOrder(50, seededRandom("b")).all()]);
  });
});
