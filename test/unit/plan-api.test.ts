import { beforeEach, describe, expect, test } from "bun:test";
import type { Manager } from "../../src/manager/manager.ts";
import { PLAN_DETAIL } from "../../src/manager/plan.ts";
import type { JobDetail, PlanResult, RegisterRequest } from "../../src/model/api-types.ts";
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

const job = (name: string, count = 1, memory = 64, extra: Record<string, unknown> = {}) => ({ name, tasks: [{ name: "main", image: "img", count, resources: { cpu: 0.1, memory }, ...extra }] });

async function plan(body: unknown, contentType = "application/json"): Promise<PlanResult> {
  const res = await call("POST", "/v1/plan", body, contentType);
  expect(res.status).toBe(200);
  return (await res.json()) as PlanResult;
}

describe("POST /v1/plan", () => {
  test("a bad job file gets the same 400 naming the field as POST /v1/jobs", async () => {
    const res = await call("POST", "/v1/plan", { name: "web", tasks: [{ name: "main", image: "img", count: "three" }] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; details: { path: string }[] } };
    expect(body.error.code).toBe("invalid_job");
    expect(body.error.details[0]?.path).toBe("tasks[0].count");
    const spread = await call("POST", "/v1/plan", { ...job("web"), spread: [{ attribute: "rack" }] });
    expect(((await spread.json()) as { error: { details: { path: string }[] } }).error.details[0]?.path).toBe("spread[0].attribute");
    const scheduler = await call("POST", "/v1/plan", "name: web\nscheduler: fastest\ntasks: [{ name: main, image: img }]\n", "application/yaml");
    expect(scheduler.status).toBe(400);
    expect(((await scheduler.json()) as { error: { message: string } }).error.message).toStartWith("invalid job: scheduler:");
  });

  test("the manager's limits refuse a plan as they refuse a submit", async () => {
    const res = await call("POST", "/v1/plan", job("huge", 20_000));
    expect(res.status).toBe(400);
  });

  test("stores nothing: no job, no task; an existing job keeps its version and tasks", async () => {
    await register("a");
    await plan(job("web", 3));
    expect(h.store.listJobs()).toEqual([]);
    expect(h.store.listTasks()).toEqual([]);
    await call("POST", "/v1/jobs", job("db", 2, 400));
    manager.reconcileNow();
    const before = h.store.listTasks();
    expect(before.filter((t) => t.state === "scheduled")).toHaveLength(2);
    // Planned as if placed afresh: the 800 MiB its own tasks hold on the 1024 MiB node count as free.
    const result = await plan(job("db", 2, 400));
    expect(result.existingVersion).toBe(1);
    expect(result.groups[0]?.placed).toBe(2);
    expect(h.store.listTasks()).toEqual(before);
    expect(h.store.getJob("db")?.version).toBe(1);
  });

  test("each task's node and every candidate's score by plugin; every rejected node with its reason", async () => {
    await register("small", 100);
    const big = await register("big", 4096);
    await register("other-dc", 4096, { datacenter: "dc2" });
    const result = await plan({ ...job("web", 2, 512), datacenters: ["dc1"] });
    expect(result).toMatchObject({ job: "web", algorithm: "binpack", existingVersion: null, nodes: 3 });
    const [group] = result.groups;
    expect(group).toMatchObject({ name: "main", count: 2, placed: 2 });
    const first = group?.tasks[0];
    expect(first?.name).toBe("web.main.0");
    expect(first?.node).toEqual({ id: big, name: "big" });
    expect(first?.detailed).toBe(true);
    expect(Object.keys(first?.score?.byPlugin ?? {})).toEqual(["binpack", "job-anti-affinity"]);
    expect(first?.candidates.map((c) => c.nodeName)).toEqual(["big"]);
    expect(first?.rejected.map((r) => [r.nodeName, r.reason]).sort()).toEqual([
      ["other-dc", "datacenter not in [dc1]"],
      ["small", "memory exhausted: needs 512 MiB, 100 free"],
    ]);
    // The second replica sees the first: the big node has 3584 MiB left.
    expect(group?.tasks[1]?.node?.name).toBe("big");
  });

  test("a task no node can run says why, counted by reason, like a pending task", async () => {
    await register("a", 300);
    await register("b", 300);
    await register("c", 4096, { datacenter: "dc2" });
    const result = await plan({ ...job("web", 1, 512), datacenters: ["dc1"] });
    const task = result.groups[0]?.tasks[0];
    expect(task?.node).toBeNull();
    expect(task?.reasons).toEqual({ "memory exhausted: needs 512 MiB, 300 free": 2, "datacenter not in [dc1]": 1 });
    expect(task?.failure).toBe("no node can run it: 2 nodes: memory exhausted: needs 512 MiB, 300 free; 1 node: datacenter not in [dc1]");
    expect(result.groups[0]?.placed).toBe(0);
  });

  test("ports in use and failed constraints are reasons too; the job's own scheduler and spreads are used", async () => {
    await register("a", 4096, { labels: { disk: "ssd", rack: "r1" } });
    await register("b", 4096, { labels: { disk: "ssd", rack: "r2" } });
    await register("c", 4096, { labels: { disk: "hdd", rack: "r3" } });
    const yaml = `
name: web
scheduler: spread
spread: [{ attribute: node.label.rack }]
tasks:
  - name: http
    image: img
    count: 3
    ports: [{ name: http, container: 80, host: 8080 }]
    constraints: [{ attribute: node.label.disk, value: ssd }]
`;
    const result = await plan(yaml, "application/yaml");
    expect(result.algorithm).toBe("spread");
    const [first, second, third] = result.groups[0]?.tasks ?? [];
    expect(Object.keys(first?.score?.byPlugin ?? {})).toEqual(["spread", "job-anti-affinity", "spread(node.label.rack)"]);
    expect(second?.rejected.map((r) => r.reason).sort()).toEqual(["constraint node.label.disk = ssd failed", `port 8080 in use`]);
    expect(new Set([first?.node?.name, second?.node?.name])).toEqual(new Set(["a", "b"]));
    expect(third?.failure).toBe("no node can run it: 2 nodes: port 8080 in use; 1 node: constraint node.label.disk = ssd failed");
  });

  test("later groups see earlier ones; replicas past the first few are planned without detail", async () => {
    await register("a", 4096);
    await register("b", 4096);
    const result = await plan({ name: "web", tasks: [{ name: "one", image: "img", count: PLAN_DETAIL + 5, resources: { cpu: 0.01, memory: 100 } }, { name: "two", image: "img", resources: { cpu: 0.1, memory: 6000 } }] });
    const [one, two] = result.groups;
    expect(one?.tasks.map((t) => t.detailed)).toEqual([...Array(PLAN_DETAIL).fill(true), ...Array(5).fill(false)]);
    expect(one?.tasks.map((t) => t.index)).toEqual(Array.from({ length: PLAN_DETAIL + 5 }, (_, i) => i));
    expect(one?.tasks.at(-1)?.candidates).toEqual([]);
    expect(one?.placed).toBe(PLAN_DETAIL + 5);
    // 15 × 100 MiB went onto the two nodes, so 6000 MiB fits on neither.
    expect(two?.tasks[0]?.failure).toStartWith("no node can run it: ");
  });

  test("a system job: one task per node that can run it, and the others with why", async () => {
    await register("a");
    await register("b", 1024, { datacenter: "dc2" });
    const result = await plan({ name: "agent", type: "system", datacenters: ["dc1"], tasks: [{ name: "main", image: "img" }] });
    const [group] = result.groups;
    expect(group?.tasks.map((t) => t.node?.name)).toEqual(["a"]);
    expect(group?.rejected?.map((r) => [r.nodeName, r.reason])).toEqual([["b", "datacenter not in [dc1]"]]);
  });
});

describe("scheduler: and spread: in a submitted job", () => {
  async function placedNodes(name: string): Promise<string[]> {
    const detail = (await (await call("GET", `/v1/jobs/${name}`)).json()) as JobDetail;
    return detail.tasks.map((t) => t.nodeName ?? "-").sort();
  }

  test("a job's own scheduler overrides the cluster's binpack", async () => {
    await register("a", 4096);
    await register("b", 4096);
    await call("POST", "/v1/jobs", job("db", 1, 2048));
    manager.reconcileNow();
    const [dbNode] = await placedNodes("db");
    await call("POST", "/v1/jobs", job("packed", 1, 512));
    await call("POST", "/v1/jobs", { ...job("spread-out", 1, 512), scheduler: "spread" });
    manager.reconcileNow();
    expect(await placedNodes("packed")).toEqual([dbNode as string]);
    expect(await placedNodes("spread-out")).not.toEqual([dbNode as string]);
  });

  test("the reconciler spreads replicas over an attribute", async () => {
    for (const [name, rack] of [["a1", "r1"], ["a2", "r1"], ["b1", "r2"], ["b2", "r2"]]) await register(name as string, 4096, { labels: { rack: rack as string } });
    await call("POST", "/v1/jobs", job("web", 2, 64, { spread: [{ attribute: "node.label.rack" }] }));
    manager.reconcileNow();
    const racks = (await placedNodes("web")).map((n) => n[0]);
    expect(racks).toEqual(["a", "b"]);
  });
});
