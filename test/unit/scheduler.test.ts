import { describe, expect, test } from "bun:test";
import type { Constraint } from "../../src/model/job.ts";
import type { Node } from "../../src/model/node.ts";
import { SEARCHED } from "../../src/scheduler/algorithms.ts";
import { ALGORITHMS, placeTasks, summarizeReasons, type ClusterSnapshot } from "../../src/scheduler/index.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { ringHash, ringPoint, ringRank } from "../../src/scheduler/tie-ring.ts";
import { SEEDS, feasible, liveTask, makeJob, makeNode, place, placedOn } from "./scheduler-fixtures.ts";

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Nodes n1..n5 with the labels the constraint tests select on. */
function labelledNodes(): Node[] {
  return [
    makeNode("n1", { labels: { disk: "ssd", kernel: "5.15.0" } }),
    makeNode("n2", { labels: { disk: "hdd", kernel: "6.1" } }),
    makeNode("n3", { labels: { kernel: "4.19" } }),
    makeNode("n4", { labels: {} }),
    makeNode("n5", { labels: { kernel: "unknown" } }),
  ];
}

const only = (...constraints: Constraint[]) => makeJob("web", { constraints });

for (const algorithm of ALGORITHMS) {
  describe(algorithm, () => {
    describe("resources", () => {
      test("places a task on a node with room and reports its score", () => {
        const result = place(algorithm, makeJob("web"), [makeNode("a")]);
        expect(result.failures).toEqual([]);
        expect(result.placements).toHaveLength(1);
        const [placement] = result.placements;
        expect(placement?.index).toBe(0);
        expect(placement?.nodeId).toBe("id-a");
        expect(placement?.score.nodeName).toBe("a");
        expect(placement?.candidates.map((c) => c.nodeId)).toEqual(["id-a"]);
      });

      test("later replicas see the earlier ones", () => {
        const result = place(algorithm, makeJob("web", { count: 3 }), [makeNode("a", { capacity: { cpu: 4, memory: 600, disk: 0 } })]);
        expect(placedOn(result)).toEqual(["a", "a"]);
        expect(result.failures).toEqual([
          { index: 2, reasons: { "memory exhausted: needs 256 MiB, 88 free": 1 }, rejected: [{ nodeId: "id-a", nodeName: "a", reason: "memory exhausted: needs 256 MiB, 88 free" }] },
        ]);
      });

      test("memory exhausted on every node: exact reason and count", () => {
        const nodes = ["a", "b", "c"].map((n) => makeNode(n));
        const tasks = ["a", "b", "c"].map((n) => liveTask("db", n, { memory: 3796 }));
        const result = place(algorithm, makeJob("web", { resources: { cpu: 0.5, memory: 512, disk: 0 } }), nodes, tasks);
        expect(result.placements).toEqual([]);
        expect(result.failures).toHaveLength(1);
        expect(result.failures[0]?.reasons).toEqual({ "memory exhausted: needs 512 MiB, 300 free": 3 });
        expect(result.failures[0]?.rejected.map((r) => r.nodeName).sort()).toEqual(["a", "b", "c"]);
      });

      test("cpu exhausted: exact reason", () => {
        const result = place(algorithm, makeJob("web"), [makeNode("a")], [liveTask("db", "a", { cpu: 3.75 })]);
        expect(result.failures[0]?.reasons).toEqual({ "cpu exhausted: needs 0.5 cores, 0.25 free": 1 });
      });

      test("disk exhausted: exact reason", () => {
        const job = makeJob("web", { resources: { cpu: 0.5, memory: 256, disk: 100 } });
        const node = makeNode("a", { capacity: { cpu: 4, memory: 4096, disk: 120 } });
        const result = place(algorithm, job, [node], [liveTask("db", "a", { disk: 100 })]);
        expect(result.failures[0]?.reasons).toEqual({ "disk exhausted: needs 100 MiB, 20 free": 1 });
      });

      test("fractional cores that add up exactly still fit", () => {
        const node = makeNode("a", { capacity: { cpu: 0.3, memory: 4096, disk: 0 } });
        const job = makeJob("web", { resources: { cpu: 0.2, memory: 1, disk: 0 } });
        expect(place(algorithm, job, [node], [liveTask("db", "a", { cpu: 0.1 })]).placements).toHaveLength(1);
      });

      test("reasons are counted per reason and summarized, most common first", () => {
        const nodes = [makeNode("a"), makeNode("b"), makeNode("c", { status: "down" })];
        const tasks = [liveTask("db", "a", { memory: 4000 }), liveTask("db", "b", { memory: 4000 })];
        const [failure] = place(algorithm, makeJob("web"), nodes, tasks).failures;
        expect(failure?.reasons).toEqual({ "memory exhausted: needs 256 MiB, 96 free": 2, "node is down": 1 });
        expect(summarizeReasons(failure?.reasons ?? {})).toBe("2 nodes: memory exhausted: needs 256 MiB, 96 free; 1 node: node is down");
      });

      test("every replica that cannot be placed gets its own failure", () => {
        const result = place(algorithm, makeJob("web", { count: 3, resources: { cpu: 8, memory: 1, disk: 0 } }), [makeNode("a")]);
        expect(result.failures.map((f) => f.index)).toEqual([0, 1, 2]);
        for (const f of result.failures) expect(f.reasons).toEqual({ "cpu exhausted: needs 8 cores, 4 free": 1 });
      });

      test("tasks on nodes the snapshot does not list hold nothing", () => {
        const result = place(algorithm, makeJob("web"), [makeNode("a")], [liveTask("db", "gone", { memory: 4096 })]);
        expect(placedOn(result)).toEqual(["a"]);
      });
    });

    describe("ports", () => {
      const withPorts = (count = 1) =>
        makeJob("web", { count, ports: [{ name: "http", container: 80, host: 8080 }, { name: "metrics", container: 9100 }] });

      test("a static port in use rejects the node and the next one is taken", () => {
        for (const seed of SEEDS) {
          const result = place(algorithm, withPorts(), [makeNode("a"), makeNode("b")], [liveTask("db", "a", {}, { api: 8080 })], { seed });
          expect(placedOn(result)).toEqual(["b"]);
          expect(result.placements[0]?.reservedPorts).toEqual({ http: 8080 });
        }
      });

      test("replicas do not collide with each other", () => {
        const result = place(algorithm, withPorts(3), [makeNode("a"), makeNode("b")]);
        expect(placedOn(result).sort()).toEqual(["a", "b"]);
        expect(result.failures).toHaveLength(1);
        expect(result.failures[0]?.reasons).toEqual({ "port 8080 in use": 2 });
      });

      test("dynamic ports reserve nothing", () => {
        const job = makeJob("web", { count: 2, ports: [{ name: "http", container: 80 }] });
        const result = place(algorithm, job, [makeNode("a")]);
        expect(result.placements.map((p) => p.reservedPorts)).toEqual([{}, {}]);
      });
    });

    describe("constraints", () => {
      test("= keeps only matching nodes; a missing attribute fails", () => {
        expect(feasible(algorithm, only({ attribute: "node.label.disk", operator: "=", value: "ssd" }), labelledNodes())).toEqual(["n1"]);
      });

      test("a failed constraint names attribute, operator and value", () => {
        const nodes = labelledNodes().filter((n) => n.name !== "n1");
        const [failure] = place(algorithm, only({ attribute: "node.label.disk", operator: "=", value: "ssd" }), nodes).failures;
        expect(failure?.reasons).toEqual({ "constraint node.label.disk = ssd failed": 4 });
      });

      test("!= passes a missing attribute", () => {
        expect(feasible(algorithm, only({ attribute: "node.label.disk", operator: "!=", value: "ssd" }), labelledNodes())).toEqual(["n2", "n3", "n4", "n5"]);
      });

      test("regexp matches as written, anchored only when the user anchors it", () => {
        expect(feasible(algorithm, only({ attribute: "node.name", operator: "regexp", value: "^n[12]$" }), labelledNodes())).toEqual(["n1", "n2"]);
        expect(feasible(algorithm, only({ attribute: "node.label.kernel", operator: "regexp", value: "1" }), labelledNodes())).toEqual(["n1", "n2", "n3"]);
      });

      test("an invalid regexp matches nothing", () => {
        const [failure] = place(algorithm, only({ attribute: "node.name", operator: "regexp", value: "(" }), labelledNodes()).failures;
        expect(failure?.reasons).toEqual({ "constraint node.name regexp ( failed": 5 });
      });

      test("version compares dotted numbers, not text; unparsable versions fail", () => {
        expect(feasible(algorithm, only({ attribute: "node.label.kernel", operator: "version", value: ">= 5.4, < 6.0" }), labelledNodes())).toEqual(["n1"]);
      });

      test("version failure reason", () => {
        const nodes = labelledNodes().filter((n) => n.name === "n2");
        const [failure] = place(algorithm, only({ attribute: "node.label.kernel", operator: "version", value: "< 6.0" }), nodes).failures;
        expect(failure?.reasons).toEqual({ "constraint node.label.kernel version < 6.0 failed": 1 });
      });

      test("node.id and node.datacenter are attributes too", () => {
        const nodes = [makeNode("a", { datacenter: "east" }), makeNode("b", { datacenter: "west" }), makeNode("c", { datacenter: "west" })];
        const job = only({ attribute: "node.datacenter", operator: "=", value: "west" }, { attribute: "node.id", operator: "!=", value: "id-b" });
        expect(feasible(algorithm, job, nodes)).toEqual(["c"]);
      });

      test("job-level and group-level constraints both apply", () => {
        const job = makeJob(
          "web",
          { constraints: [{ attribute: "node.label.kernel", operator: "regexp", value: "^[56]\\." }] },
          { constraints: [{ attribute: "node.label.disk", operator: "!=", value: "ssd" }] },
        );
        expect(feasible(algorithm, job, labelledNodes())).toEqual(["n2"]);
      });

      test("distinct_hosts allows one task of the group per node", () => {
        const job = makeJob("web", { count: 3, constraints: [{ attribute: "node.id", operator: "distinct_hosts", value: "true" }] });
        const result = place(algorithm, job, [makeNode("a"), makeNode("b")]);
        expect(placedOn(result).sort()).toEqual(["a", "b"]);
        expect(result.failures[0]?.reasons).toEqual({ "constraint node.id distinct_hosts true failed": 2 });
      });

      test("distinct_hosts counts existing tasks of the same group only", () => {
        const job = makeJob("web", { constraints: [{ attribute: "node.id", operator: "distinct_hosts", value: "true" }] });
        for (const seed of SEEDS) {
          const tasks = [liveTask("web", "a"), liveTask("db", "b")];
          expect(placedOn(place(algorithm, job, [makeNode("a"), makeNode("b")], tasks, { seed }))).toEqual(["b"]);
        }
      });
    });

    describe("nodes", () => {
      test("datacenter filter keeps only listed datacenters", () => {
        const nodes = [makeNode("a", { datacenter: "dc1" }), makeNode("b", { datacenter: "dc2" }), makeNode("c", { datacenter: "dc3" })];
        expect(feasible(algorithm, makeJob("web", {}, { datacenters: ["dc2"] }), nodes)).toEqual(["b"]);
        const [failure] = place(algorithm, makeJob("web", {}, { datacenters: ["dc4", "dc5"] }), nodes).failures;
        expect(failure?.reasons).toEqual({ "datacenter not in [dc4, dc5]": 3 });
      });

      test("down, draining and ineligible nodes are never chosen", () => {
        const unusable = [makeNode("a", { status: "down" }), makeNode("b", { status: "draining" }), makeNode("c", { eligible: false })];
        for (const seed of SEEDS) {
          const result = place(algorithm, makeJob("web", { count: 4 }), [...unusable, makeNode("d")], [liveTask("db", "d", { cpu: 1, memory: 2048 })], { seed });
          expect(placedOn(result)).toEqual(["d", "d", "d", "d"]);
        }
        const [failure] = place(algorithm, makeJob("web"), unusable).failures;
        expect(failure?.reasons).toEqual({ "node is down": 1, "node is draining": 1, "node is ineligible": 1 });
      });

      test("onlyNodes restricts a system job to its target", () => {
        const nodes = [makeNode("a"), makeNode("b"), makeNode("c")];
        for (const seed of SEEDS) expect(placedOn(place(algorithm, makeJob("agent"), nodes, [], { seed, onlyNodes: ["id-b"] }))).toEqual(["b"]);
        const down = nodes.map((n) => (n.name === "b" ? { ...n, status: "down" as const } : n));
        const [failure] = place(algorithm, makeJob("agent"), down, [], { onlyNodes: ["id-b"] }).failures;
        expect(failure?.rejected.find((r) => r.nodeName === "b")?.reason).toBe("node is down");
        expect(failure?.reasons["not a target of this system job"]).toBe(2);
      });

      test("no nodes at all is a failure with no reasons", () => {
        expect(place(algorithm, makeJob("web"), []).failures).toEqual([{ index: 0, reasons: {}, rejected: [] }]);
      });
    });

    describe("spreading replicas", () => {
      for (const [size, resources] of [
        ["small", { cpu: 0.5, memory: 256, disk: 0 }],
        ["half-node", { cpu: 2, memory: 2048, disk: 0 }],
      ] as const) {
        test(`a 3-count of ${size} tasks on 3 empty identical nodes lands on 3 nodes`, () => {
          for (const seed of SEEDS) {
            const result = place(algorithm, makeJob("web", { count: 3, resources }), ["a", "b", "c"].map((n) => makeNode(n)), [], { seed });
            expect(new Set(placedOn(result)).size).toBe(3);
          }
        });
      }

      test("a 6-count on 3 nodes puts two on each", () => {
        for (const seed of SEEDS) {
          const placed = placedOn(place(algorithm, makeJob("web", { count: 6 }), ["a", "b", "c"].map((n) => makeNode(n)), [], { seed }));
          expect(placed.sort()).toEqual(["a", "a", "b", "b", "c", "c"]);
        }
      });
    });

    describe("spread over an attribute", () => {
      /** Racks r1..r3 with two nodes each: r1a, r1b, r2a, … */
      const racks = () => ["r1", "r2", "r3"].flatMap((rack) => ["a", "b"].map((n) => makeNode(`${rack}${n}`, { labels: { rack } })));
      const byRack = (names: string[]) => names.map((n) => n.slice(0, 2)).sort();
      const overRacks = (count: number) => makeJob("web", { count, spread: [{ attribute: "node.label.rack", weight: 50 }] });

      test("a 3-count over 3 racks of 2 nodes puts one in each rack", () => {
        for (const seed of SEEDS) expect(byRack(placedOn(place(algorithm, overRacks(3), racks(), [], { seed })))).toEqual(["r1", "r2", "r3"]);
      });

      test("a 6-count over 3 racks of 2 nodes puts two in each rack, one per node", () => {
        for (const seed of SEEDS) {
          const placed = placedOn(place(algorithm, overRacks(6), racks(), [], { seed }));
          expect(byRack(placed)).toEqual(["r1", "r1", "r2", "r2", "r3", "r3"]);
          expect(new Set(placed).size).toBe(6);
        }
      });

      test("counts the replicas already running: the next goes to the rack with the fewest", () => {
        const tasks = [liveTask("web", "r1a"), liveTask("web", "r1b"), liveTask("web", "r2a")];
        for (const seed of SEEDS) expect(byRack(placedOn(place(algorithm, overRacks(6), racks(), tasks, { seed, indexes: [3] })))).toEqual(["r3"]);
      });

      test("a job-level spread over datacenters evens out even where a datacenter has one node", () => {
        const nodes = [makeNode("a", { datacenter: "dc1" }), makeNode("b", { datacenter: "dc1" }), makeNode("c", { datacenter: "dc1" }), makeNode("d", { datacenter: "dc2" })];
        const job = makeJob("web", { count: 4 }, { spread: [{ attribute: "node.datacenter", weight: 50 }] });
        for (const seed of SEEDS) {
          const placed = placedOn(place(algorithm, job, nodes, [], { seed }));
          expect(placed.filter((n) => n === "d")).toHaveLength(2);
        }
      });

      test("is scored per spread by name; a node without the attribute scores 0 on it", () => {
        const nodes = [makeNode("a", { labels: { rack: "r1" } }), makeNode("b", { datacenter: "dc2" })];
        const job = makeJob("web", { spread: [{ attribute: "node.label.rack", weight: 50 }] }, { spread: [{ attribute: "node.datacenter", weight: 50 }] });
        const [placement] = place(algorithm, job, nodes).placements;
        const b = placement?.candidates.find((c) => c.nodeName === "b");
        expect(Object.keys(b?.byPlugin ?? {}).slice(-2)).toEqual(["spread(node.datacenter)", "spread(node.label.rack)"]);
        expect(b?.byPlugin["spread(node.label.rack)"]).toBe(0);
        expect(placement?.score.nodeName).toBe("a");
      });

      test("a task's spread on an attribute replaces the job's on it", () => {
        const job = makeJob("web", { spread: [{ attribute: "node.label.rack", weight: 0 }] }, { spread: [{ attribute: "node.label.rack", weight: 50 }] });
        const [placement] = place(algorithm, job, racks()).placements;
        expect(Object.keys(placement?.score.byPlugin ?? {}).filter((k) => k.startsWith("spread("))).toEqual(["spread(node.label.rack)"]);
      });
    });

    describe("reproducibility", () => {
      const nodes = () => ["a", "b", "c", "d", "e"].map((n) => makeNode(n));

      test("same seed and input give an identical result", () => {
        const tasks = [liveTask("db", "a"), liveTask("web", "c")];
        const first = place(algorithm, makeJob("web", { count: 4 }), nodes(), tasks, { seed: "eval-42" });
        const second = place(algorithm, makeJob("web", { count: 4 }), nodes(), tasks, { seed: "eval-42" });
        expect(second).toEqual(first);
      });

      test("the caller's order of nodes and tasks does not matter", () => {
        const tasks = [liveTask("db", "a"), liveTask("web", "c"), liveTask("db", "e")];
        const first = place(algorithm, makeJob("web", { count: 4 }), nodes(), tasks, { seed: "eval-42" });
        const reversed = place(algorithm, makeJob("web", { count: 4 }), nodes().reverse(), [...tasks].reverse(), { seed: "eval-42" });
        expect(reversed).toEqual(first);
      });

      test("the seed breaks ties between equal nodes", () => {
        const chosen = new Set(Array.from({ length: 20 }, (_, i) => placedOn(place(algorithm, makeJob("web"), nodes(), [], { seed: `s${i}` }))[0]));
        expect(chosen.size).toBeGreaterThan(1);
      });

      if (SEARCHED[algorithm]) {
        test("a tie goes to the node the seeded tie ring reaches first, searched or scanned", () => {
          for (const seed of SEEDS) {
            const point = ringPoint(seededRandom(`${seed}/ties`));
            const [first] = nodes().sort((a, b) => ringRank(ringHash(a.id), point) - ringRank(ringHash(b.id), point));
            const [scanned] = place(algorithm, makeJob("web"), nodes(), [], { seed, exhaustive: true }).placements;
            expect(scanned?.candidates).toHaveLength(5);
            expect(scanned?.nodeId).toBe(first?.id ?? "");
            expect(placedOn(place(algorithm, makeJob("web"), nodes(), [], { seed }))).toEqual([first?.name ?? ""]);
          }
        });
      } else {
        test("a tie goes to the first candidate in the seeded order", () => {
          for (const seed of SEEDS) {
            const [placement] = place(algorithm, makeJob("web"), nodes(), [], { seed }).placements;
            expect(placement?.candidates).toHaveLength(5);
            expect(placement?.nodeId).toBe(placement?.candidates[0]?.nodeId ?? "");
          }
        });
      }

      for (const onlyNodes of [undefined, ["id-a", "id-b", "id-c"]]) {
        test(`the input is never mutated (${onlyNodes ? "with" : "without"} target nodes)`, () => {
          const cluster: ClusterSnapshot = { nodes: nodes(), tasks: [liveTask("db", "a", {}, { http: 8080 }), liveTask("web", "b")] };
          const job = makeJob("web", { count: 3, ports: [{ name: "http", container: 80, host: 9090 }], spread: [{ attribute: "node.name", weight: 50 }] });
          const group = job.tasks[0];
          if (!group) throw new Error("fixture has a group");
          const request = { job, group, indexes: [0, 1, 2], algorithm, seed: "s", ...(onlyNodes ? { onlyNodes } : {}) };
          const before = structuredClone({ request, cluster });
          deepFreeze(request);
          deepFreeze(cluster);
          const result = placeTasks(request, cluster);
          expect(result.placements).toHaveLength(3);
          expect({ request, cluster }).toEqual(before);
        });
      }
    });
  });
}
