import { expect, test } from "bun:test";
import type { JobSpec } from "../../src/model/job.ts";
import type { Node } from "../../src/model/node.ts";
import { type Algorithm, ClusterIndex, type LiveTask, placeTasks } from "../../src/scheduler/index.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { makeJobSpec, makeNode } from "./fixtures.ts";
import { orderView } from "./scheduler-fixtures.ts";

const JOBS: JobSpec[] = [
  makeJobSpec("big", [{ name: "web", resources: { cpu: 0.25, memory: 128, disk: 0 } }]),
  makeJobSpec("wide", [{ name: "api", resources: { cpu: 1, memory: 512, disk: 0 }, constraints: [{ attribute: "node.id", operator: "distinct_hosts", value: "true" }] }]),
  makeJobSpec("port", [{ name: "edge", resources: { cpu: 0.5, memory: 256, disk: 0 }, ports: [{ name: "http", container: 80, host: 8080 }] }]),
  makeJobSpec("rack", [{ name: "db", resources: { cpu: 0.5, memory: 1024, disk: 0 } }], { constraints: [{ attribute: "node.label.rack", operator: "=", value: "r1" }] }),
];

/**
 * A call may leave the nodes holding its group out of the cluster's order for the next call for the
 * same group (ClusterIndex.park). Checked against an index where every call starts afresh: the same
 * placements, whatever came in between — tasks counted or not (a dry run keeps none), tasks gone,
 * nodes changed or gone — and the same orders once read.
 */
test("placing with parked groups picks exactly what placing afresh picks, through random steps", () => {
  const seed = process.env.CUBE_PARK_SEED ?? String(Date.now());
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  const parking = new ClusterIndex();
  const afresh = new ClusterIndex();
  const nodes = new Map<string, Node>();
  const setNode = (node: Node) => {
    nodes.set(node.id, node);
    parking.setNode(node);
    afresh.setNode(node);
  };
  for (let i = 0; i < 40; i++) {
    const id = `n${String(i).padStart(2, "0")}`;
    setNode(makeNode(id, { id, labels: { rack: i % 3 === 0 ? "r1" : "r2" }, capacity: { cpu: pick([4, 8, 16]), memory: pick([4096, 8192, 16384]), disk: 100_000 } }));
  }
  const live = new Map<string, LiveTask>();
  let job = JOBS[0] as JobSpec;
  let counter = 0;
  let placedOnce = 0;
  for (let step = 0; step < 600; step++) {
    const roll = random();
    if (roll < 0.6) {
      // Mostly the same job again, as the steps of one evaluation are.
      if (random() < 0.25) job = pick(JOBS);
      const group = job.tasks[0] as JobSpec["tasks"][number];
      const algorithm: Algorithm = random() < 0.7 ? "binpack" : "epvm";
      const request = { job, group, indexes: Array.from({ length: 1 + Math.floor(random() * 12) }, (_, k) => counter + k), algorithm, seed: `${seed}/${step}` };
      counter += request.indexes.length;
      const withParking = placeTasks(request, parking);
      const fresh = placeTasks(request, afresh);
      // Reading an order puts back what the call parked: the next call there starts afresh.
      afresh.byCapacity("fill");
      const brief = (r: typeof fresh) => ({ placed: r.placements.map((p) => [p.index, p.nodeId, p.score.total]), failed: r.failures.map((f) => f.index) });
      expect({ seed, step, ...brief(withParking) }).toEqual({ seed, step, ...brief(fresh) });
      placedOnce += withParking.placements.length;
      // A dry run (plan) keeps nothing it placed.
      if (random() < 0.85) {
        for (const p of withParking.placements) {
          const task: LiveTask = { id: `t${step}-${p.index}`, job: job.name, group: group.name, nodeId: p.nodeId, resources: group.resources, reservedPorts: p.reservedPorts };
          live.set(task.id, task);
          parking.add(task);
          afresh.add(task);
        }
      }
    } else if (roll < 0.8 && live.size > 0) {
      const gone = pick([...live.keys()]);
      live.delete(gone);
      parking.remove(gone);
      afresh.remove(gone);
    } else if (roll < 0.88 && live.size > 0) {
      // Counted again with its fields unchanged, as every report of a task's state does.
      const again = live.get(pick([...live.keys()])) as LiveTask;
      parking.add(again);
      afresh.add(again);
    } else if (roll < 0.93) {
      const node = nodes.get(pick([...nodes.keys()])) as Node;
      setNode({ ...node, eligible: random() < 0.8, capacity: { ...node.capacity, cpu: pick([4, 8, 16]) } });
    } else {
      const gone = pick([...nodes.keys()]);
      nodes.delete(gone);
      parking.removeNode(gone);
      afresh.removeNode(gone);
      // A node that left is in no order, parked or not.
      expect({ seed, step, order: orderView(parking.byCapacity("fill")) }).toEqual({ seed, step, order: orderView(afresh.byCapacity("fill")) });
      const id = `n${40 + step}`;
      setNode(makeNode(id, { id, labels: { rack: "r1" }, capacity: { cpu: 8, memory: 8192, disk: 100_000 } }));
    }
    if (step % 50 === 49) {
      for (const key of ["fill", "tasks"] as const) expect({ seed, step, key, order: orderView(parking.byCapacity(key)) }).toEqual({ seed, step, key, order: orderView(afresh.byCapacity(key)) });
    }
  }
  // The run placed enough for most nodes to hold some group, so calls did resume parked ones.
  expect(placedOnce).toBeGreaterThan(500);
});
