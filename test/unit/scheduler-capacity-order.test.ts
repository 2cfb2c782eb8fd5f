import { describe, expect, test } from "bun:test";
import type { OrderKey } from "../../src/scheduler/capacity-class.ts";
import { CapacityOrder } from "../../src/scheduler/capacity-order.ts";
import { emptyUsage, type IndexedUsage } from "../../src/scheduler/node-usage.ts";
import type { NodeUsage } from "../../src/scheduler/plugin.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { ringHash } from "../../src/scheduler/tie-ring.ts";
import { makeNode, orderView, treapErrors } from "./scheduler-fixtures.ts";

const GROUP = "web/http";
const holdsOf = (usage: NodeUsage) => usage.groups.get(GROUP) ?? 0;
const fraction = (used: number, capacity: number) => (capacity > 0 ? used / capacity : 1);

const quarterOctave = (n: number) => (n > 0 ? Math.floor(4 * Math.log2(n)) : -1_000);

/** The order by brute force: nodes grouped by what their class tells apart, sorted as the order's doc says. */
function sorted(usages: Iterable<NodeUsage>, key: OrderKey) {
  const classes = new Map<string, { usage: NodeUsage; members: NodeUsage[] }>();
  for (const usage of usages) {
    const { capacity } = usage.node;
    const id = JSON.stringify([capacity.cpu, capacity.memory, usage.allocated.cpu, usage.allocated.memory, usage.taskCount, holdsOf(usage)]);
    const found = classes.get(id);
    if (found) found.members.push(usage);
    else classes.set(id, { usage, members: [usage] });
  }
  // Each number ascending; those negated sort larger first.
  const sortKey = ({ usage }: { usage: NodeUsage }) => {
    const { capacity } = usage.node;
    const fill = fraction(usage.allocated.cpu, capacity.cpu) + fraction(usage.allocated.memory, capacity.memory);
    const shape = quarterOctave(capacity.cpu) * 4_096 + quarterOctave(capacity.memory);
    return [-shape, key === "fill" ? fill : usage.taskCount, fill, -capacity.cpu, -capacity.memory, usage.allocated.cpu, usage.allocated.memory, usage.taskCount, holdsOf(usage)];
  };
  const byKey = (a: number[], b: number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
    return 0;
  };
  const byRing = (a: NodeUsage, b: NodeUsage) => ringHash(a.node.id) - ringHash(b.node.id) || (a.node.id < b.node.id ? -1 : 1);
  return [...classes.values()]
    .sort((a, b) => byKey(sortKey(a), sortKey(b)))
    .map((c) => {
      const [shape, rank] = sortKey(c) as [number, number];
      const { capacity } = c.usage.node;
      return {
        rank,
        shape: -shape,
        capacity: [capacity.cpu, capacity.memory],
        used: [c.usage.allocated.cpu, c.usage.allocated.memory],
        tasks: c.usage.taskCount,
        holds: holdsOf(c.usage),
        members: c.members.sort(byRing).map((u) => u.node.id),
      };
    });
}

describe("CapacityOrder", () => {
  for (const key of ["fill", "tasks"] as const) {
    test(`by ${key}: random joins, moves and leaves keep it equal to a brute-force sort, its treap sound`, () => {
      const seed = process.env.CUBE_ORDER_SEED ?? String(Date.now());
      const random = seededRandom(seed);
      const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
      const order = new CapacityOrder(key, holdsOf);
      const present = new Map<string, IndexedUsage>();
      for (let step = 0; step < 4_000; step++) {
        const roll = random();
        const id = `n${Math.floor(random() * 60)}`;
        const current = present.get(id);
        if (roll < 0.1 || !current) {
          // Joins, or comes back with another capacity: a new usage object for the same node.
          const usage = emptyUsage(makeNode(id, { id, capacity: { cpu: pick([2, 4, 16, 0]), memory: pick([2048, 2100, 4096]), disk: pick([0, 100]) } }));
          present.set(usage.node.id, usage);
          order.set(usage);
        } else if (roll < 0.15) {
          present.delete(current.node.id);
          order.delete(current.node.id);
        } else {
          // A task comes or goes: the usage changes in place, as the index changes it, then the order is told.
          const sign = roll < 0.65 || current.taskCount === 0 ? 1 : -1;
          current.allocated.cpu += sign * pick([0.5, 1]);
          current.allocated.memory += sign * 256;
          current.taskCount += sign;
          const group = random() < 0.3 ? GROUP : "db/main";
          const n = (current.groups.get(group) ?? 0) + sign;
          if (n > 0) current.groups.set(group, n);
          else current.groups.delete(group);
          order.set(current);
        }
        if (step % 200 === 0 || step === 3_999) {
          expect({ seed, step, view: orderView(order) }).toEqual({ seed, step, view: sorted(present.values(), key) });
          expect({ seed, step, errors: treapErrors(order, holdsOf) }).toEqual({ seed, step, errors: [] });
        }
      }
      expect(order.size).toBe(present.size);
      // Classes were shared, or the test would not show that members are kept in ring order.
      expect(orderView(order).some((c) => c.members.length > 1)).toBe(true);
    });
  }

  test("the same classes make the same treap, whatever the order they came in", () => {
    const usages = Array.from({ length: 200 }, (_, i) => {
      const usage = emptyUsage(makeNode(`n${i}`));
      usage.allocated.cpu = (i % 7) * 0.5;
      usage.taskCount = i % 5;
      return usage;
    });
    const shape = (order: CapacityOrder) => JSON.stringify(order.root, (k, v) => (k === "members" || k === "next" || k === "own" ? undefined : v));
    const forward = new CapacityOrder("fill");
    const backward = new CapacityOrder("fill");
    for (const usage of usages) forward.set(usage);
    for (const usage of [...usages].reverse()) backward.set(usage);
    expect(shape(backward)).toBe(shape(forward));
  });
});
