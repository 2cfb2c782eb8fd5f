import { describe, expect, test } from "bun:test";
import type { Constraint, JobSpec, TaskSpec } from "../../src/model/job.ts";
import { ALGORITHMS, type Algorithm, ClusterIndex, placeTasks } from "../../src/scheduler/index.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { SEEDS, liveTask, makeJob, makeNode, place, placedOn } from "./scheduler-fixtures.ts";

const threeNodes = () => ["a", "b", "c"].map((n) => makeNode(n));

describe("plugins reported per algorithm", () => {
  const expected: Record<Algorithm, string[]> = {
    binpack: ["binpack", "job-anti-affinity"],
    spread: ["spread", "job-anti-affinity"],
    epvm: ["epvm"],
    "round-robin": ["round-robin"],
  };
  for (const algorithm of ALGORITHMS) {
    test(`${algorithm}: byPlugin names its plugins and the chosen node has the best total`, () => {
      const [placement] = place(algorithm, makeJob("web"), threeNodes(), [liveTask("db", "a", { cpu: 2, memory: 2048 })]).placements;
      expect(Object.keys(placement?.score.byPlugin ?? {})).toEqual(expected[algorithm]);
      const best = Math.max(...(placement?.candidates ?? []).map((c) => c.total));
      expect(placement?.score.total).toBe(best);
    });
  }
});

describe("binpack", () => {
  test("puts a second, different job on the node already in use", () => {
    for (const seed of SEEDS) {
      expect(placedOn(place("binpack", makeJob("api"), threeNodes(), [liveTask("web", "b")], { seed }))).toEqual(["b"]);
    }
  });

  test("prefers the fullest node that still fits", () => {
    const tasks = [liveTask("db", "a", { cpu: 3.8, memory: 4000 }), liveTask("db", "b", { cpu: 2, memory: 2048 })];
    const result = place("binpack", makeJob("api"), threeNodes(), tasks);
    expect(placedOn(result)).toEqual(["b"]);
    expect(result.placements[0]?.score.byPlugin.binpack).toBe(59.38);
  });

  test("scores 100 when the task fills the node", () => {
    const node = makeNode("a", { capacity: { cpu: 0.5, memory: 256, disk: 0 } });
    expect(place("binpack", makeJob("api"), [node]).placements[0]?.score.byPlugin.binpack).toBe(100);
  });

  test("penalizes nodes holding replicas of the same group", () => {
    const [placement] = place("binpack", makeJob("web", { count: 3 }), threeNodes(), [liveTask("web", "a")], { indexes: [1], exhaustive: true }).placements;
    const onA = placement?.candidates.find((c) => c.nodeName === "a");
    expect(onA?.byPlugin["job-anti-affinity"]).toBe(66.67);
    expect(placement?.score.byPlugin["job-anti-affinity"]).toBe(100);
    expect(placement?.score.nodeName).not.toBe("a");
  });
});

describe("binpack packs as tightly as an exhaustive scan", () => {
  const NODES = 300;
  const JOBS = 60;
  const nodes = () =>
    Array.from({ length: NODES }, (_, i) =>
      makeNode(`n${i}`, { datacenter: i % 2 ? "dc2" : "dc1", labels: { rack: `r${i % 20}`, ...(i % 3 ? {} : { disk: "ssd" }) }, capacity: { cpu: 8, memory: 16_384, disk: 102_400 } }),
    );
  const constraints: Constraint[] = [
    { attribute: "node.label.disk", operator: "=", value: "ssd" },
    { attribute: "node.datacenter", operator: "=", value: "dc2" },
    { attribute: "node.label.rack", operator: "regexp", value: "^r1" },
    { attribute: "node.id", operator: "distinct_hosts", value: "true" },
  ];

  /** 10-task jobs: half-core ones ("uniform"), or of mixed sizes with one in five constrained ("mixed"). */
  function jobs(workload: "uniform" | "mixed"): JobSpec[] {
    const random = seededRandom(`packing-${workload}`);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
    return Array.from({ length: JOBS }, (_, j) =>
      workload === "uniform"
        ? makeJob(`job-${j}`, { count: 10, resources: { cpu: 0.5, memory: 256, disk: 0 } })
        : makeJob(`job-${j}`, {
            count: 10,
            resources: { cpu: pick([0.1, 0.25, 0.5, 1]), memory: pick([128, 256, 512, 1024, 2048]), disk: pick([0, 100, 1000]) },
            constraints: random() < 0.2 ? [pick(constraints)] : [],
          }),
    );
  }

  /** Places the jobs one after another as the manager does (each placement counted before the next job); returns the nodes used. */
  function nodesUsed(workload: "uniform" | "mixed", exhaustive: boolean): number {
    const cluster = ClusterIndex.of({ nodes: nodes(), tasks: [] });
    const used = new Set<string>();
    jobs(workload).forEach((job, j) => {
      const group = job.tasks[0] as TaskSpec;
      const result = placeTasks({ job, group, indexes: Array.from({ length: group.count }, (_, i) => i), algorithm: "binpack", seed: `eval-${j}`, exhaustive }, cluster);
      expect(result.failures).toEqual([]);
      for (const p of result.placements) {
        cluster.add({ id: `${job.name}-${p.index}`, job: job.name, group: group.name, nodeId: p.nodeId, resources: group.resources, reservedPorts: p.reservedPorts });
        used.add(p.nodeId);
      }
    });
    return used.size;
  }

  for (const workload of ["uniform", "mixed"] as const) {
    test(`${workload}: nodes used ÷ nodes used exhaustively ≤ 1.10`, () => {
      const exhaustive = nodesUsed(workload, true);
      const ratio = nodesUsed(workload, false) / exhaustive;
      expect(ratio).toBeLessThanOrEqual(1.1);
      // 600 half-cores fill 37.5 nodes: the exhaustive scan itself packs (job anti-affinity spreads each job over 10 nodes).
      if (workload === "uniform") expect(exhaustive).toBeLessThanOrEqual(40);
    });
  }
});

describe("spread", () => {
  test("puts a different job on the emptiest node", () => {
    const tasks = [liveTask("web", "a", { cpu: 1, memory: 1024 }), liveTask("db", "b", { cpu: 0.5, memory: 512 })];
    for (const seed of SEEDS) expect(placedOn(place("spread", makeJob("api"), threeNodes(), tasks, { seed }))).toEqual(["c"]);
  });

  test("scores the inverse of the allocation after placement", () => {
    const node = makeNode("a", { capacity: { cpu: 1, memory: 1024, disk: 0 } });
    expect(place("spread", makeJob("api"), [node]).placements[0]?.score.byPlugin.spread).toBe(62.5);
  });
});

describe("epvm", () => {
  test("prefers the less-loaded node", () => {
    const tasks = [liveTask("db", "a", { cpu: 1, memory: 1024 }), liveTask("db", "a", { cpu: 1, memory: 1024 }), liveTask("db", "b", { cpu: 1, memory: 1024 })];
    for (const seed of SEEDS) expect(placedOn(place("epvm", makeJob("api"), threeNodes(), tasks, { seed }))).toEqual(["c"]);
  });

  test("the cpu term counts: equal memory load, lower cpu load wins", () => {
    const nodes = [makeNode("a"), makeNode("b")];
    const tasks = [liveTask("db", "a", { cpu: 3, memory: 1024 }), liveTask("db", "b", { cpu: 1, memory: 1024 })];
    for (const seed of SEEDS) {
      const [placement] = place("epvm", makeJob("api"), nodes, tasks, { seed, exhaustive: true }).placements;
      expect(placement?.score.nodeName).toBe("b");
      expect(placement?.candidates.find((c) => c.nodeName === "a")?.total).toBe(0);
      expect(placement?.score.total).toBe(100);
    }
  });

  test("the memory term counts: equal cpu load, lower memory load wins", () => {
    const tasks = [liveTask("db", "a", { cpu: 1, memory: 3000 }), liveTask("db", "b", { cpu: 1, memory: 500 })];
    for (const seed of SEEDS) expect(placedOn(place("epvm", makeJob("api"), [makeNode("a"), makeNode("b")], tasks, { seed }))).toEqual(["b"]);
  });

  test("the task-count term counts: equal resource load, fewer tasks wins", () => {
    const tasks = [liveTask("db", "a", { cpu: 0.5, memory: 512 }), liveTask("db", "a", { cpu: 0.5, memory: 512 }), liveTask("db", "b", { cpu: 1, memory: 1024 })];
    for (const seed of SEEDS) expect(placedOn(place("epvm", makeJob("api"), [makeNode("a"), makeNode("b")], tasks, { seed }))).toEqual(["b"]);
  });

  test("the task-count term alone decides for tasks that need no cpu or memory", () => {
    const tasks = [liveTask("db", "a", { cpu: 0, memory: 0 })];
    const job = makeJob("api", { resources: { cpu: 0, memory: 0, disk: 0 } });
    for (const seed of SEEDS) expect(placedOn(place("epvm", job, [makeNode("a"), makeNode("b")], tasks, { seed }))).toEqual(["b"]);
  });

  test("equal nodes all score 100", () => {
    const [placement] = place("epvm", makeJob("api"), threeNodes(), [], { exhaustive: true }).placements;
    expect(placement?.candidates.map((c) => c.total)).toEqual([100, 100, 100]);
  });
});

describe("round-robin", () => {
  test("takes the node with the fewest tasks of the group, however full it is", () => {
    const tasks = [liveTask("db", "a", { cpu: 3, memory: 3000 }), liveTask("web", "b"), liveTask("web", "c")];
    for (const seed of SEEDS) {
      const [placement] = place("round-robin", makeJob("web", { count: 3 }), threeNodes(), tasks, { seed, indexes: [2] }).placements;
      expect(placement?.score.nodeName).toBe("a");
      expect(placement?.candidates.filter((c) => c.nodeName !== "a").map((c) => c.total)).toEqual([0, 0]);
    }
  });

  test("replicas take turns over the nodes", () => {
    const placed = placedOn(place("round-robin", makeJob("web", { count: 9 }), threeNodes()));
    for (let i = 0; i < 9; i += 3) expect(new Set(placed.slice(i, i + 3)).size).toBe(3);
  });
});
