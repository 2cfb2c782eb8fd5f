import { expect, test } from "bun:test";
import { assignmentsJson, pageJson } from "../../src/api/json-text.ts";
import { nodeView, taskView } from "../../src/manager/views.ts";
import type { AssignmentsResponse } from "../../src/model/api-types.ts";
import { makeNode, makeTask, makeTaskSpec } from "./fixtures.ts";

test("the assignments' JSON is JSON.stringify's, also after a task was replaced by a changed one", () => {
  const spec = makeTaskSpec({ env: { QUOTE: 'say "hi"\n' } });
  const first = makeTask({ message: "placed on a" });
  const response: AssignmentsResponse = { index: "e1.1", assignments: [{ task: first, spec, jobType: "service" }, { task: makeTask({ health: "healthy" }), spec, jobType: "service" }] };
  expect(JSON.parse(assignmentsJson(response))).toEqual(JSON.parse(JSON.stringify(response)));
  expect(assignmentsJson(response)).toBe(JSON.stringify(response));
  const changed = { ...first, state: "running" as const, message: "started" };
  const next: AssignmentsResponse = { index: "e1.2", assignments: [{ task: changed, spec, jobType: "service" }] };
  expect(assignmentsJson(next)).toBe(JSON.stringify(next));
  expect(assignmentsJson({ index: "e1.3", assignments: [] })).toBe('{"index":"e1.3","assignments":[]}');
});

test("a page's JSON is JSON.stringify's, with views kept per task and node only while they stay the same", () => {
  const names = new Map([["n1", "alpha"]]);
  const nodeName = (id: string) => names.get(id);
  const task = makeTask({ nodeId: "n1", message: 'quote " and\nnewline' });
  const first = taskView(task, nodeName);
  expect(taskView(task, nodeName)).toBe(first);
  expect(Object.isFrozen(first)).toBe(true);
  const items = [first, taskView(makeTask({ nodeId: null }), nodeName)];
  expect(pageJson("tasks", items, "tok")).toBe(JSON.stringify({ tasks: items, next: "tok" }));
  expect(pageJson("tasks", [], null)).toBe('{"tasks":[],"next":null}');
  // The node went away: the same task object now shows no node name.
  names.delete("n1");
  const orphan = taskView(task, nodeName);
  expect(orphan.nodeName).toBeNull();
  expect(pageJson("tasks", [orphan], null)).toBe(JSON.stringify({ tasks: [orphan], next: null }));

  const node = makeNode("alpha");
  const usage = { node, allocated: { cpu: 0.1 + 0.2, memory: 256, disk: 0 }, ports: new Set<number>(), groups: new Map(), taskCount: 2 };
  const view = nodeView(node, usage);
  expect(view.allocated).toEqual({ cpu: 0.3, memory: 256, disk: 0 });
  expect(nodeView(node, usage)).toBe(view);
  const busier = nodeView(node, { ...usage, allocated: { ...usage.allocated, memory: 512 }, taskCount: 3 });
  expect(busier).not.toBe(view);
  expect(busier.taskCount).toBe(3);
  expect(nodeView(node, undefined)).toMatchObject({ allocated: { cpu: 0, memory: 0, disk: 0 }, taskCount: 0 });
  // A heartbeat changes the node in place: its stats and time show at once.
  const beforeBeat = nodeView(node, usage);
  node.stats = { cpuPercent: 12, memoryUsedMb: 300, diskUsedMb: 10, at: 5 };
  node.lastHeartbeat = 5;
  const afterBeat = nodeView(node, usage);
  expect(afterBeat).not.toBe(beforeBeat);
  expect(afterBeat).toMatchObject({ stats: { cpuPercent: 12 }, lastHeartbeat: 5, taskCount: 2 });
  node.lastHeartbeat = 8;
  expect(nodeView(node, usage).lastHeartbeat).toBe(8);
  expect(pageJson("nodes", [busier], null)).toBe(JSON.stringify({ nodes: [busier], next: null }));
});
