import { describe, expect, test } from "bun:test";
import type { Node } from "../../src/model/node.ts";
import { ClusterIndex, type LiveTask } from "../../src/scheduler/index.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { makeNode } from "./fixtures.ts";
import { orderView, treapErrors } from "./scheduler-fixtures.ts";

const ORDER_KEYS = ["fill", "tasks"] as const;

/** What the scheduler reads of an index, as plain data: every node, and the ready, eligible ones by capacity. */
function read(index: ClusterIndex) {
  const nodes = index.usages.map((u, position) => ({
    node: u.node,
    position: index.positionOf(u.node.id),
    expected: position,
    allocated: u.allocated,
    taskCount: u.taskCount,
    ports: [...u.ports].sort(),
    groups: [...u.groups].sort(),
    rack: index.valuesOf("node.label.rack")[position],
    racks: [...index.positionsOf("node.label.rack")].sort(),
  }));
  return { nodes, byCapacity: ORDER_KEYS.map((key) => orderView(index.byCapacity(key))) };
}

const task = (id: string, nodeId: string | null, overrides: Partial<LiveTask> = {}): LiveTask => ({
  id,
  job: "web",
  group: "http",
  nodeId,
  resources: { cpu: 0.1, memory: 64, disk: 1 },
  reservedPorts: {},
  ...overrides,
});

describe("ClusterIndex kept current", () => {
  test("random adds, removes and node changes leave it equal to one built from scratch", () => {
    const seed = process.env.CUBE_INDEX_SEED ?? String(Date.now());
    const random = seededRandom(seed);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
    const index = ClusterIndex.of({ nodes: [], tasks: [] });
    // Made now, so every change below has to keep them current.
    for (const key of ORDER_KEYS) index.byCapacity(key);
    const nodes = new Map<string, Node>();
    const tasks = new Map<string, LiveTask>();
    for (let step = 0; step < 3_000; step++) {
      const roll = random();
      if (roll < 0.1) {
        const node = makeNode(`n${Math.floor(random() * 12)}`, { status: pick(["ready", "draining", "down"] as const), eligible: random() < 0.8, labels: { rack: pick(["r1", "r2", "r3"]) }, capacity: { cpu: pick([2, 4]), memory: 4096, disk: 100 } });
        nodes.set(node.id, node);
        index.setNode(node);
      } else if (roll < 0.13) {
        const id = pick([...nodes.keys()]);
        if (id) {
          nodes.delete(id);
          index.removeNode(id);
        }
      } else if (roll < 0.6) {
        const t = task(`t${Math.floor(random() * 200)}`, `id-n${Math.floor(random() * 14)}`, {
          group: pick(["http", "db"]),
          resources: { cpu: pick([0.1, 0.2, 0.3, 1 / 3]), memory: pick([64, 100.5]), disk: 1 },
          reservedPorts: random() < 0.2 ? { http: pick([80, 81]) } : {},
        });
        tasks.set(t.id, t);
        index.add(t);
      } else {
        const id = pick([...tasks.keys()]);
        if (id) {
          tasks.delete(id);
          index.remove(id);
        }
      }
    }
    expect({ seed, view: read(index) }).toEqual({ seed, view: read(ClusterIndex.of({ nodes: [...nodes.values()], tasks: [...tasks.values()] })) });
    expect(index.size).toBe(nodes.size);
    for (const key of ORDER_KEYS) {
      const order = index.byCapacity(key);
      expect({ seed, errors: treapErrors(order) }).toEqual({ seed, errors: [] });
      // Its members are the index's own usages, which the scheduler reads.
      for (const found of order.classes()) for (const { usage } of found.members) expect<unknown>(index.usageOf(usage.node.id)).toBe(usage);
      expect(order.size).toBe([...nodes.values()].filter((n) => n.status === "ready" && n.eligible).length);
    }
  });

  test("sums are exact however often fractional cores come and go", () => {
    const index = ClusterIndex.of({ nodes: [makeNode("a")], tasks: [] });
    for (let i = 0; i < 1_000; i++) index.add(task(`t${i}`, "id-a", { resources: { cpu: 0.1, memory: 0.3, disk: 0 } }));
    for (let i = 0; i < 999; i++) index.remove(`t${i}`);
    expect(index.usageOf("id-a")?.allocated).toEqual({ cpu: 0.1, memory: 0.3, disk: 0 });
    index.remove("t999");
    expect(index.usageOf("id-a")?.allocated).toEqual({ cpu: 0, memory: 0, disk: 0 });
    expect(index.usageOf("id-a")?.taskCount).toBe(0);
  });

  test("a port stays reserved until the last task holding it is gone; adding a task again moves it", () => {
    const index = ClusterIndex.of({ nodes: [makeNode("a"), makeNode("b")], tasks: [] });
    index.add(task("t1", "id-a", { reservedPorts: { http: 80 } }));
    index.add(task("t2", "id-a", { reservedPorts: { http: 80 } }));
    index.remove("t1");
    expect([...(index.usageOf("id-a")?.ports ?? [])]).toEqual([80]);
    index.add(task("t2", "id-b", { reservedPorts: { http: 80 } }));
    expect([...(index.usageOf("id-a")?.ports ?? [])]).toEqual([]);
    expect(index.usageOf("id-a")?.taskCount).toBe(0);
    expect(index.usageOf("id-b")?.groups.get("web/http")).toBe(1);
    expect(index.nodesOf("web/http")).toEqual(new Map([[1, 1]]));
  });

  test("a task on a node the index does not know holds nothing until the node joins, and again after it left", () => {
    const index = ClusterIndex.of({ nodes: [], tasks: [task("t1", "id-a")] });
    expect(index.size).toBe(0);
    index.setNode(makeNode("a"));
    expect(index.usageOf("id-a")?.taskCount).toBe(1);
    index.removeNode("id-a");
    expect(index.usageOf("id-a")).toBeUndefined();
    index.setNode(makeNode("a", { status: "draining" }));
    expect(index.usageOf("id-a")?.allocated.memory).toBe(64);
    expect(index.usages[0]?.node.status).toBe("draining");
  });
});
