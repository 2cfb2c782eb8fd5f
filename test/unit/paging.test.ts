import { beforeEach, describe, expect, test } from "bun:test";
import type { ClusterEvent, JobView, NodeView, TaskView } from "../../src/model/api-types.ts";
import { ApiHarness } from "./api-harness.ts";

let h: ApiHarness;
beforeEach(() => {
  h = new ApiHarness();
});

const job = (name: string, count = 1) => ({ name, tasks: [{ name: "main", image: "img", count, resources: { cpu: 0.01, memory: 16 } }] });

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await h.call("GET", path);
  return { status: res.status, body: (await res.json()) as T };
}

/** Every page of a list, `limit` at a time; `between` runs after each page. */
async function walk<T>(path: string, key: string, limit: number, between: (page: number) => Promise<void> = async () => {}): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let next: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const { status, body } = await get<Record<string, unknown>>(`${path}${sep}limit=${limit}${next ? `&next=${encodeURIComponent(next)}` : ""}`);
    expect(status).toBe(200);
    items.push(...(body[key] as T[]));
    next = body.next as string | null;
    pages++;
    await between(pages);
  } while (next !== null);
  return { items, pages };
}

describe("lists page", () => {
  test("jobs: every job there from the start is seen exactly once, while jobs are added between pages", async () => {
    for (let i = 0; i < 20; i++) await h.call("POST", "/v1/jobs", job(`j${String(i).padStart(2, "0")}`));
    const { items, pages } = await walk<JobView>("/v1/jobs", "jobs", 6, async (page) => {
      // One sorts before every page read so far, one after: only the second can still be seen.
      await h.call("POST", "/v1/jobs", job(`a-new-${page}`));
      await h.call("POST", "/v1/jobs", job(`z-new-${page}`));
    });
    const names = items.map((j) => j.name);
    expect(new Set(names).size).toBe(names.length);
    for (let i = 0; i < 20; i++) expect(names).toContain(`j${String(i).padStart(2, "0")}`);
    expect(names.filter((n) => n.startsWith("a-new"))).toEqual([]);
    expect(names).toEqual([...names].sort());
    expect(pages).toBeGreaterThanOrEqual(4);
  });

  test("tasks: list order (job, group, slot), exactly once across pages while tasks are added; filters from the indexes", async () => {
    const a = await h.register("a", 65_536);
    const b = await h.register("b", 65_536);
    await h.call("POST", "/v1/jobs", job("web", 30));
    await h.call("POST", "/v1/jobs", job("api", 7));
    h.manager.reconcileNow();
    const all = (await get<{ tasks: TaskView[]; next: null }>("/v1/tasks")).body;
    expect(all.next).toBeNull();
    expect(all.tasks.map((t) => t.name)).toEqual([...Array.from({ length: 7 }, (_, i) => `api.main.${i}`), ...Array.from({ length: 30 }, (_, i) => `web.main.${i}`)].sort((x, y) => {
      const [jx, , ix] = x.split(".");
      const [jy, , iy] = y.split(".");
      return (jx as string).localeCompare(jy as string) || Number(ix) - Number(iy);
    }));

    let added = 0;
    const { items } = await walk<TaskView>("/v1/tasks", "tasks", 5, async () => {
      await h.call("POST", "/v1/jobs", job(`new${added++}`, 1));
      h.manager.reconcileNow();
    });
    const ids = items.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const task of all.tasks) expect(ids).toContain(task.id);

    const onA = await walk<TaskView>(`/v1/tasks?node=a&job=web`, "tasks", 4);
    expect(onA.items.length).toBeGreaterThan(0);
    expect(onA.items.every((t) => t.nodeId === a && t.job === "web")).toBe(true);
    const byNode = await walk<TaskView>(`/v1/tasks?node=${b}`, "tasks", 4);
    expect(byNode.items.every((t) => t.nodeId === b)).toBe(true);
    expect(onA.items.length + byNode.items.filter((t) => t.job === "web").length).toBe(30);

    const [first] = all.tasks;
    await h.call("POST", `/v1/nodes/${first?.nodeId}/tasks`, { reports: [{ taskId: first?.id, state: "running", message: "started" }] });
    expect((await walk<TaskView>("/v1/tasks?state=running", "tasks", 10)).items.map((t) => t.id)).toEqual([first?.id as string]);
    const scheduled = await walk<TaskView>("/v1/tasks?state=scheduled", "tasks", 10);
    expect(scheduled.items.length).toBe(all.tasks.length + added - 1);
    expect(scheduled.items.every((t) => t.state === "scheduled")).toBe(true);
  });

  test("nodes and event history page too", async () => {
    for (let i = 0; i < 7; i++) await h.register(`n${i}`);
    const { items, pages } = await walk<NodeView>("/v1/nodes", "nodes", 3);
    expect(items.map((n) => n.name)).toEqual(["n0", "n1", "n2", "n3", "n4", "n5", "n6"]);
    expect(pages).toBe(3);
    expect(items.every((n) => n.taskCount === 0 && n.allocated.cpu === 0)).toBe(true);

    await h.call("POST", "/v1/jobs", job("web", 3));
    h.manager.reconcileNow();
    const history = await walk<ClusterEvent>("/v1/events/history?job=web", "events", 2);
    expect(history.items.map((e) => e.index)).toEqual([...history.items.map((e) => e.index)].sort((x, y) => x - y));
    expect(history.items.every((e) => e.job === "web")).toBe(true);
    expect(history.items.map((e) => e.message)).toContain("job web created");
    expect(history.items.filter((e) => e.type === "task").length).toBe(6);
    const nodesOnly = await walk<ClusterEvent>("/v1/events/history?type=node", "events", 100);
    expect(nodesOnly.items.map((e) => e.message)).toEqual(Array.from({ length: 7 }, (_, i) => `node n${i} joined (http://127.0.0.1:1)`));
  });

  test("a bad token or limit is a 400 that names the parameter", async () => {
    await h.call("POST", "/v1/jobs", job("web"));
    const nodesToken = (await get<{ next: string }>("/v1/nodes?limit=1")).body.next;
    for (const path of ["/v1/jobs?next=garbage", "/v1/tasks?next=%E2%9C%93", `/v1/jobs?limit=1&next=${Buffer.from('["jobs",1]').toString("base64url")}`, "/v1/events/history?next=x"]) {
      const { status, body } = await get<{ error: { code: string; message: string } }>(path);
      expect(`${path}: ${status} ${body.error.code}`).toBe(`${path}: 400 bad_request`);
      expect(body.error.message).toStartWith("query parameter next:");
    }
    expect(nodesToken).toBeNull();
    await h.register("a");
    await h.register("b");
    const token = (await get<{ next: string }>("/v1/nodes?limit=1")).body.next;
    expect((await get(`/v1/jobs?next=${token}`)).status).toBe(400);
    for (const limit of ["0", "-1", "ten", "10001"]) {
      const { status, body } = await get<{ error: { message: string } }>(`/v1/tasks?limit=${limit}`);
      expect(status).toBe(400);
      expect(body.error.message).toStartWith("query parameter limit:");
    }
  });
});
