import { expect, test } from "bun:test";
import { ClusterState } from "../../src/manager/cluster-state.ts";
import { StateCopy, type StateDelta, StateFeed } from "../../src/manager/state-feed.ts";
import type { Store } from "../../src/store/index.ts";
import { describeState } from "./cluster-view.ts";
import { makeJob, makeJobSpec, makeNode, makeTask } from "./fixtures.ts";

/** A state of `tasks` tasks of one job on two nodes. */
function stateWith(tasks: number): ClusterState {
  const state = new ClusterState();
  state.putNode(makeNode("a"));
  state.putNode(makeNode("b"));
  state.replaceJob(makeJob(makeJobSpec("web")), new Map());
  for (let i = 0; i < tasks; i++) state.putTask(makeTask({ id: `t-${i}`, index: i, nodeId: i % 2 ? "id-a" : "id-b" }));
  return state;
}

/** What ClusterState.load reads of a store, answered from another state. */
function storeHolding(state: ClusterState): Store {
  const jobs = [...state.jobNames()].map((name) => (state.job(name) as NonNullable<ReturnType<ClusterState["job"]>>).job);
  return { listNodes: () => state.nodeList(), listAllJobVersions: () => new Map(), listJobs: () => jobs, listTasks: () => [...state.tasks.all()] } as unknown as Store;
}

/** A feed whose deltas go through JSON, as to the front thread, and are kept. */
function follow(state: ClusterState) {
  const sent: StateDelta[] = [];
  const feed = new StateFeed(state, (delta) => sent.push(JSON.parse(JSON.stringify(delta))));
  return { sent, feed };
}

test("a whole state goes in parts of 20,000 tasks, and a copy shows none of it until the last part came", () => {
  const state = stateWith(45_000);
  const { sent, feed } = follow(state);
  feed.flush();
  expect(sent.map((d) => [d.full, d.more ?? false, d.tasks.length])).toEqual([
    [true, true, 20_000],
    [false, true, 20_000],
    [false, false, 5_000],
  ]);
  const copy = new StateCopy();
  expect(copy.apply(sent[0] as StateDelta)).toBe(false);
  expect(copy.apply(sent[1] as StateDelta)).toBe(false);
  expect(copy.state).toBeNull();
  expect(copy.apply(sent[2] as StateDelta)).toBe(true);
  expect(describeState(copy.state as ClusterState)).toEqual(describeState(state));
  feed.close();
});

test("after a reload the copy keeps the old state until the new one is whole, then has exactly it", () => {
  const state = stateWith(25_000);
  const { sent, feed } = follow(state);
  const copy = new StateCopy();
  feed.flush();
  for (const delta of sent.splice(0)) copy.apply(delta);
  const before = copy.state;

  const reloaded = stateWith(21_000);
  reloaded.putNode(makeNode("c"));
  state.reload(storeHolding(reloaded));
  feed.flush();
  expect(sent.map((d) => [d.full, d.more ?? false])).toEqual([
    [true, true],
    [false, false],
  ]);
  copy.apply(sent[0] as StateDelta);
  expect(copy.state).toBe(before);
  expect(copy.apply(sent[1] as StateDelta)).toBe(true);
  expect(describeState(copy.state as ClusterState)).toEqual(describeState(state));
  feed.close();
});

test("a change is sent in a microtask after it is made: before anything the same turn awaits later", async () => {
  const state = stateWith(3);
  const { sent, feed } = follow(state);
  feed.flush();
  sent.length = 0;
  state.putTask(makeTask({ id: "t-new", index: 9, nodeId: "id-a" }));
  state.deleteTask("t-0");
  expect(sent).toEqual([]);
  await Promise.resolve();
  expect(sent.map((d) => [d.tasks.map((t) => t.id), d.goneTasks])).toEqual([[["t-new"], ["t-0"]]]);
  feed.close();
});

test("a heartbeat alone is sent within 250 ms, not at once; with a change it goes along", async () => {
  const state = stateWith(1);
  const { sent, feed } = follow(state);
  feed.flush();
  sent.length = 0;
  state.recordHeartbeat(state.node("id-a") as NonNullable<ReturnType<ClusterState["node"]>>, 42, null);
  await Promise.resolve();
  expect(sent).toEqual([]);
  await Bun.sleep(300);
  expect(sent.map((d) => d.nodes.map((n) => [n.id, n.lastHeartbeat]))).toEqual([[["id-a", 42]]]);

  state.recordHeartbeat(state.node("id-b") as NonNullable<ReturnType<ClusterState["node"]>>, 43, null);
  state.putTask(makeTask({ id: "t-more", index: 5, nodeId: "id-b" }));
  await Promise.resolve();
  expect(sent.slice(1).map((d) => [d.nodes.map((n) => n.lastHeartbeat), d.tasks.map((t) => t.id)])).toEqual([[[43], ["t-more"]]]);
  feed.close();
});
