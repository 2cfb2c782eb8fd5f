import { beforeEach, describe, expect, test } from "bun:test";
import type { Manager } from "../../src/manager/manager.ts";
import type { AssignmentsResponse, JobDetail, RegisterRequest } from "../../src/model/api-types.ts";
import { ApiHarness } from "./api-harness.ts";

let h: ApiHarness;
let manager: Manager;

beforeEach(() => {
  h = new ApiHarness();
  manager = h.manager;
});

const call = (method: string, path: string, body?: unknown, contentType?: string) => h.call(method, path, body, contentType);
const register = (name: string, memory?: number, extra?: Partial<RegisterRequest>) => h.register(name, memory, extra);
const jobDetail = (name: string) => h.jobDetail(name);

const job = (name: string, count = 1, memory = 64) => ({ name, tasks: [{ name: "main", image: "img", count, resources: { cpu: 0.1, memory } }] });

describe("jobs", () => {
  test("a malformed job gets a 400 naming the field, and nothing is stored", async () => {
    await call("POST", "/v1/jobs", job("keep"));
    const res = await call("POST", "/v1/jobs", { name: "keep", tasks: [{ name: "main", image: "img", count: "three" }] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; details: { path: string }[] } };
    expect(body.error.code).toBe("invalid_job");
    expect(body.error.details[0]?.path).toBe("tasks[0].count");
    expect(body.error.message).toContain("tasks[0].count");
    const stored = await jobDetail("keep");
    expect(stored.version).toBe(1);
    expect(stored.spec.tasks[0]?.count).toBe(1);
  });

  test("YAML bodies are accepted; an unchanged resubmission keeps the version", async () => {
    const yaml = "name: web\ntasks:\n  - name: main\n    image: img\n";
    const first = await call("POST", "/v1/jobs", yaml, "application/yaml");
    expect(first.status).toBe(201);
    const again = await call("POST", "/v1/jobs", yaml, "application/yaml");
    expect(again.status).toBe(200);
    expect(((await again.json()) as { changed: boolean; job: { version: number } }).job.version).toBe(1);
    const changed = await call("POST", "/v1/jobs", yaml.replace("img", "img2"), "application/yaml");
    expect(((await changed.json()) as { job: { version: number } }).job.version).toBe(2);
  });

  test("unknown ids are 404s that name what was missing", async () => {
    const task = await call("GET", "/v1/tasks/nope");
    expect(task.status).toBe(404);
    expect(((await task.json()) as { error: { message: string } }).error.message).toBe("task nope does not exist (name a task by id, unique id prefix, or JOB.GROUP.INDEX as in cube status)");
    expect((await call("GET", "/v1/jobs/nope")).status).toBe(404);
    expect((await call("DELETE", "/v1/jobs/nope")).status).toBe(404);
    expect((await call("GET", "/v1/nowhere")).status).toBe(404);
  });

  test("bodies over the limit are refused with 413", async () => {
    const res = await call("POST", "/v1/jobs", "x".repeat(1024 * 1024 + 1), "application/yaml");
    expect(res.status).toBe(413);
  });

  test("a task no node can fit stays pending and says why, counted by reason", async () => {
    await register("small", 100);
    await call("POST", "/v1/jobs", job("big", 1, 512));
    manager.reconcileNow();
    const task = (await jobDetail("big")).tasks[0];
    expect(task?.state).toBe("pending");
    expect(task?.message).toBe("no node can run it: 1 node: memory exhausted: needs 512 MiB, 100 free");
    // Capacity appearing places it without a resubmission.
    await register("large", 4096);
    manager.reconcileNow();
    expect((await jobDetail("big")).tasks[0]?.state).toBe("scheduled");
  });
});

describe("the worker protocol", () => {
  test("assignments long-poll wakes on a change", async () => {
    const nodeId = await register("w1");
    const first = (await (await call("GET", `/v1/nodes/${nodeId}/assignments?index=&wait=1s`)).json()) as AssignmentsResponse;
    expect(first.assignments).toEqual([]);
    const waiting = call("GET", `/v1/nodes/${nodeId}/assignments?index=${first.index}&wait=30s`);
    await call("POST", "/v1/jobs", job("web"));
    manager.reconcileNow();
    const next = (await (await waiting).json()) as AssignmentsResponse;
    expect(next.index).not.toBe(first.index);
    expect(next.assignments.map((a) => a.task.job)).toEqual(["web"]);
    expect(next.assignments[0]?.spec.image).toBe("img");
  });

  test("with delta=1 from its last answer's index a node is told only what changed, and which tasks went", async () => {
    const nodeId = await register("w1");
    await call("POST", "/v1/jobs", job("web", 2));
    manager.reconcileNow();
    const first = (await (await call("GET", `/v1/nodes/${nodeId}/assignments?index=&wait=1s&delta=1`)).json()) as AssignmentsResponse;
    expect(first.removed).toBeUndefined();
    expect(first.assignments).toHaveLength(2);
    await call("POST", "/v1/jobs", job("api"));
    await call("DELETE", "/v1/jobs/web?purge=true");
    manager.reconcileNow();
    const next = (await (await call("GET", `/v1/nodes/${nodeId}/assignments?index=${first.index}&wait=1s&delta=1`)).json()) as AssignmentsResponse;
    expect(next.assignments.map((a) => a.task.job)).toEqual(["api"]);
    expect(next.removed?.sort()).toEqual(first.assignments.map((a) => a.task.id).sort());
    // Without delta=1 the list is whole, as older workers expect.
    const whole = (await (await call("GET", `/v1/nodes/${nodeId}/assignments?index=${next.index}&wait=1ms`)).json()) as AssignmentsResponse;
    expect(whole.removed).toBeUndefined();
    expect(whole.assignments.map((a) => a.task.job)).toEqual(["api"]);
  });

  test("reports are checked: owner node, transition table, body shape", async () => {
    const a = await register("a");
    const b = await register("b");
    await call("POST", "/v1/jobs", job("web"));
    manager.reconcileNow();
    const task = (await jobDetail("web")).tasks[0];
    const owner = task?.nodeId === a ? a : b;
    const other = owner === a ? b : a;
    const taskId = task?.id as string;
    const send = async (nodeId: string, reports: unknown) => {
      const res = await call("POST", `/v1/nodes/${nodeId}/tasks`, reports === undefined ? "{not json" : { reports });
      return { status: res.status, body: (await res.json()) as { results: { ok: boolean; state?: string; error?: { code: string; message: string } }[] } };
    };
    const running = { taskId, state: "running", message: "started", containerId: "c1", hostPorts: { http: 31000 } };
    const forged = await send(other, [running]);
    expect(forged.body.results).toEqual([{ taskId, ok: false, error: { code: "conflict", message: `task ${taskId} is not placed on node ${other}` } }] as never);
    expect((await send(owner, [{ taskId, state: "exploded", message: "" }])).status).toBe(400);
    expect((await send(owner, undefined)).status).toBe(400);
    expect((await send(owner, [])).status).toBe(400);
    const applied = await send(owner, [running, { taskId, state: "completed", message: "exit code 0", exitCode: 0 }]);
    expect(applied.body.results.map((r) => r.state)).toEqual(["running", "completed"]);
    const late = await send(owner, [running]);
    expect(late.body.results[0]?.error?.message).toContain("is completed and cannot become running");
    const detail = (await (await call("GET", `/v1/tasks/${taskId.slice(0, 8)}`)).json()) as { events: { state: string }[]; hostPorts: Record<string, number> };
    expect(detail.events.map((e) => e.state)).toEqual(["pending", "scheduled", "running", "completed"]);
    expect(detail.hostPorts).toEqual({ http: 31000 });
  });

  test("a node silent past the TTL goes down; its tasks are lost and placed elsewhere", async () => {
    const a = await register("a");
    const b = await register("b");
    await call("POST", "/v1/jobs", job("web", 2));
    manager.reconcileNow();
    expect(new Set((await jobDetail("web")).tasks.map((t) => t.nodeId))).toEqual(new Set([a, b]));
    h.clock += 5_000;
    await call("POST", `/v1/nodes/${b}/heartbeat`, { stats: { cpuPercent: 1, memoryUsedMb: 1, diskUsedMb: 1, at: h.clock } });
    h.clock += 6_000;
    manager.checkLiveness();
    manager.reconcileNow();
    const nodes = (await (await call("GET", "/v1/nodes")).json()) as { nodes: { id: string; status: string }[] };
    expect(nodes.nodes.find((n) => n.id === a)?.status).toBe("down");
    const tasks = (await jobDetail("web")).tasks;
    expect(tasks.filter((t) => t.state === "lost").map((t) => t.nodeId)).toEqual([a]);
    expect(tasks.filter((t) => t.state === "scheduled").map((t) => t.nodeId)).toEqual([b, b]);
    const unknown = await call("POST", "/v1/nodes/ghost/heartbeat", { stats: { cpuPercent: 1, memoryUsedMb: 1, diskUsedMb: 1, at: 1 } });
    expect(unknown.status).toBe(404);
  });

  test("a second worker cannot take a node name that is in use", async () => {
    await register("same");
    const res = await call("POST", "/v1/nodes/register", { name: "same", address: "http://127.0.0.1:2", datacenter: "dc1", labels: {}, capacity: { cpu: 1, memory: 1, disk: 1 }, version: "t" });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('node name "same" belongs to node');
  });
});

describe("scaling and draining", () => {
  test("scaling only adds or removes the difference, as a new version", async () => {
    await register("a");
    await call("POST", "/v1/jobs", job("web", 2));
    manager.reconcileNow();
    const before = (await jobDetail("web")).tasks.map((t) => t.id);
    const res = await call("POST", "/v1/jobs/web/scale", { group: "main", count: 3 });
    expect(res.status).toBe(200);
    manager.reconcileNow();
    const after = await jobDetail("web");
    expect(after.version).toBe(2);
    const live = after.tasks.filter((t) => t.desired === "running");
    expect(live.length).toBe(3);
    expect(live.filter((t) => before.includes(t.id)).length).toBe(2);
    await call("POST", "/v1/jobs/web/scale", { group: "main", count: 1 });
    manager.reconcileNow();
    const down = await jobDetail("web");
    expect(down.tasks.filter((t) => t.desired === "running").map((t) => t.index)).toEqual([0]);
    const unknown = await call("POST", "/v1/jobs/web/scale", { group: "nope", count: 1 });
    expect(unknown.status).toBe(404);
    expect((await call("POST", "/v1/jobs/web/scale", { group: "main", count: -1 })).status).toBe(400);
  });

  test("draining moves tasks to other nodes and keeps new ones off; eligible undoes it", async () => {
    const a = await register("a");
    const b = await register("b");
    await call("POST", "/v1/jobs", job("web", 2));
    manager.reconcileNow();
    const drained = await call("POST", "/v1/nodes/a/drain");
    expect(((await drained.json()) as { status: string; eligible: boolean }).eligible).toBe(false);
    manager.reconcileNow();
    const tasks = (await jobDetail("web")).tasks;
    const onA = tasks.filter((t) => t.nodeId === a && t.desired === "running");
    expect(onA).toEqual([]);
    expect(tasks.filter((t) => t.desired === "running").every((t) => t.nodeId === b)).toBe(true);
    const eligible = await call("POST", "/v1/nodes/a/eligibility", { eligible: true });
    expect(((await eligible.json()) as { status: string; eligible: boolean }).eligible).toBe(true);
    expect((await call("POST", "/v1/nodes/nope/drain")).status).toBe(404);
  });
});

describe("metrics", () => {
  test("GET /metrics counts jobs, tasks, nodes, placements and API requests in Prometheus text", async () => {
    await register("a");
    await call("POST", "/v1/jobs", job("web", 2));
    manager.reconcileNow();
    await call("GET", "/v1/jobs/web");
    const nodeId = (await (await call("GET", "/v1/nodes")).json() as { nodes: { id: string }[] }).nodes[0]?.id;
    await call("GET", `/v1/nodes/${nodeId}/assignments?index=&wait=1s`);
    const res = await call("GET", "/metrics");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("# TYPE cube_tasks gauge");
    expect(text).toContain('cube_tasks{state="scheduled"} 2');
    expect(text).toContain('cube_jobs{status="running"} 1');
    expect(text).toContain('cube_nodes{status="ready"} 1');
    expect(text).toContain("cube_placements_total 2");
    expect(text).toMatch(/cube_scheduling_duration_seconds_count 1\n/);
    expect(text).toMatch(/cube_api_request_duration_seconds_count\{method="GET",route="\/v1\/jobs\/:name",status="200"\} 1/);
    expect(text).not.toContain("/v1/nodes/:id/assignments");
  });
});
