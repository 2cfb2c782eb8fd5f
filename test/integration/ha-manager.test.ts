import { afterEach, expect, test } from "bun:test";
import { createLogger } from "../../src/lib/logger.ts";
import { Manager } from "../../src/manager/manager.ts";
import type { ClusterEvent } from "../../src/model/api-types.ts";
import { EtcdStore } from "../../src/store/etcd/etcd-store.ts";
import { etcdPerFile } from "../support/etcd-cluster.ts";
import { waitFor } from "../support/wait-for.ts";
import { makeJobSpec } from "../unit/fixtures.ts";

/**
 * Managers in one process on a real etcd, each with its own store (as on separate machines): what a
 * follower takes reaches the leader, which evaluates; what the leader places reaches the follower;
 * a new leader gives every node a full heartbeat TTL before it marks any down.
 */
const TTL_MS = 10_000;
const log = createLogger("ha-manager-test", "error");
const cluster = etcdPerFile();
const running: { manager: Manager; store: EtcdStore }[] = [];

async function startManager(name: string, clock: { now: number }) {
  const store = await EtcdStore.open({ endpoints: cluster().endpoints, managerName: name, log, leaderTtlSeconds: 2 });
  const manager = new Manager({ store, name, log, heartbeatTtlMs: TTL_MS, now: () => clock.now });
  manager.start(`http://${name}`);
  running.push({ manager, store });
  return { manager, store };
}

const join = (manager: Manager, name: string) =>
  manager.joinNode({ role: "join" }, { name, address: "http://127.0.0.1:1", datacenter: "dc1", labels: {}, capacity: { cpu: 4, memory: 4096, disk: 1000 }, version: "test" }).node.id;

afterEach(async () => {
  for (const { manager, store } of running.splice(0)) {
    manager.stop();
    await store.shutdown();
  }
});

test("a follower takes a node and a job; the leader places the tasks; the follower sees them, takes the reports, and streams every manager's events", async () => {
  const clock = { now: 1_000_000 };
  const a = await startManager("a", clock);
  await waitFor("a to lead", () => (a.store.leading ? true : undefined), 5_000, 10);
  const b = await startManager("b", clock);
  const events: ClusterEvent[] = [];
  b.manager.subscribe((e) => events.push(e));
  expect(b.manager.managers().map((m) => [m.name, m.leader])).toEqual([["a", true], ["b", false]]);

  const node = join(b.manager, "n1");
  b.manager.submitJob(makeJobSpec("web", [{ count: 3 }]));
  await b.manager.durable();
  const placed = await waitFor("b to see the leader's placements", () => {
    const tasks = b.manager.getJob("web").tasks;
    return tasks.length === 3 && tasks.every((t) => t.nodeId === node && t.state === "scheduled") ? tasks : undefined;
  }, 5_000, 10);

  const results = await b.manager.reportTasks(node, placed.map((t) => ({ taskId: t.id, state: "running" as const, message: "started" })));
  expect(results.every((r) => r.ok)).toBe(true);
  await b.manager.durable();
  await waitFor("a to see the tasks running", () => (a.manager.getJob("web").tasks.every((t) => t.state === "running") ? true : undefined), 5_000, 10);

  const messages = events.map((e) => e.message);
  expect(messages).toContain("job web created");
  // Placements are the leader's events, published on the follower from what the leader stored with them.
  expect(messages.filter((m) => m.includes("placed on n1")).length).toBeGreaterThanOrEqual(3);
});

test("a request of 300 reports is stored whole, in parts that each fit one etcd transaction", async () => {
  const clock = { now: 1_000_000 };
  const a = await startManager("a", clock);
  await waitFor("a to lead", () => (a.store.leading ? true : undefined), 5_000, 10);
  const node = join(a.manager, "n1");
  a.manager.submitJob(makeJobSpec("big", [{ count: 300, resources: { cpu: 0.001, memory: 1, disk: 0 } }]));
  const tasks = await waitFor("300 placements", () => {
    const list = a.manager.getJob("big").tasks;
    return list.length === 300 && list.every((t) => t.state === "scheduled") ? list : undefined;
  }, 10_000, 20);
  const results = await a.manager.reportTasks(node, tasks.map((t) => ({ taskId: t.id, state: "running" as const, message: "started" })));
  await a.manager.durable();
  expect(results.filter((r) => r.ok)).toHaveLength(300);
  const again = await EtcdStore.open({ endpoints: cluster().endpoints, managerName: "reader", log });
  expect(again.listTasks({ job: "big", state: "running" })).toHaveLength(300);
  again.close();
});

test("a new leader marks no node down before a full heartbeat TTL of its own leadership has passed", async () => {
  const clock = { now: 1_000_000 };
  const a = await startManager("a", clock);
  await waitFor("a to lead", () => (a.store.leading ? true : undefined), 5_000, 10);
  const b = await startManager("b", clock);
  const node = join(b.manager, "n1");
  await b.manager.durable();
  await waitFor("a to know the node", () => (a.manager.state.node(node) ? true : undefined), 5_000, 10);

  // The leader goes away; its last news of the node is old by the time another leads.
  a.manager.stop();
  await a.store.shutdown();
  running.shift();
  clock.now += 5 * TTL_MS;
  await waitFor("b to lead", () => (b.store.leading ? true : undefined), 10_000, 20);
  b.manager.checkLiveness();
  expect(b.manager.getNode(node).status).toBe("ready");
  clock.now += TTL_MS - 1;
  b.manager.checkLiveness();
  expect(b.manager.getNode(node).status).toBe("ready");
  clock.now += 2;
  b.manager.checkLiveness();
  expect(b.manager.getNode(node).status).toBe("down");
}, 30_000);
