import { beforeEach, describe, expect, test } from "bun:test";
import type { Manager } from "../../src/manager/manager.ts";
import { resolveTaskRef } from "../../src/manager/task-ref.ts";
import type { TaskDetail } from "../../src/model/api-types.ts";
import { parseTaskName, type Task } from "../../src/model/task.ts";
import { ApiHarness } from "./api-harness.ts";
import { makeTask } from "./fixtures.ts";

let h: ApiHarness;
let manager: Manager;

beforeEach(() => {
  h = new ApiHarness();
  manager = h.manager;
});

const job = (name: string, count: number) => ({ name, tasks: [{ name: "http", image: "img", count, resources: { cpu: 0.1, memory: 64 } }] });
const getTask = async (ref: string) => {
  const res = await h.call("GET", `/v1/tasks/${encodeURIComponent(ref)}`);
  return { status: res.status, body: (await res.json()) as TaskDetail & { error?: { message: string } } };
};

describe("a task named JOB.GROUP.INDEX", () => {
  test("is found by every route that takes a task id: details, stop, logs, exec, restart, events", async () => {
    await h.register("w1");
    await h.call("POST", "/v1/jobs", job("web", 2));
    manager.reconcileNow();
    const tasks = (await h.jobDetail("web")).tasks;
    const second = tasks.find((t) => t.index === 1) as Task;

    const byName = await getTask("web.http.1");
    expect(byName.status).toBe(200);
    expect(byName.body.id).toBe(second.id);
    expect(byName.body.name).toBe("web.http.1");
    // The worker (at a port nothing listens on) is asked about the named task, not a 404 for the name.
    for (const [method, path, body] of [["GET", "/v1/tasks/web.http.1/logs"], ["POST", "/v1/tasks/web.http.1/exec", { command: ["ls"] }]] as const) {
      const res = await h.call(method, path, body);
      expect(res.status).toBe(409);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain("web.http.1");
    }
    const restart = await h.call("POST", "/v1/tasks/web.http.1/restart");
    expect(((await restart.json()) as { error: { message: string } }).error.message).toBe("task web.http.1 is scheduled; only a running task can be restarted");
    const events = (await (await h.call("GET", "/v1/events/history?task=web.http.1")).json()) as { events: { task: string }[] };
    expect(events.events.length).toBeGreaterThan(0);
    expect(new Set(events.events.map((e) => e.task))).toEqual(new Set([second.id]));

    const stopped = await h.call("POST", "/v1/tasks/web.http.1/stop");
    expect(stopped.status).toBe(200);
    expect(((await stopped.json()) as Task).id).toBe(second.id);
    // The slot's replacement is its live task now; the stopped one is history.
    manager.reconcileNow();
    const replacement = await getTask("web.http.1");
    expect(replacement.body.id).not.toBe(second.id);
    expect(replacement.body.desired).toBe("running");
  });

  test("a slot, a job or an index that does not exist is a 404 that says how tasks are named", async () => {
    await h.register("w1");
    await h.call("POST", "/v1/jobs", job("web", 1));
    manager.reconcileNow();
    for (const ref of ["web.http.7", "web.nope.0", "nojob.http.0", "zzzzzzzz"]) {
      const res = await getTask(ref);
      expect(res.status).toBe(404);
      expect(res.body.error?.message).toBe(`task ${ref} does not exist (name a task by id, unique id prefix, or JOB.GROUP.INDEX as in cube status)`);
    }
    const id = (await h.jobDetail("web")).tasks[0]?.id as string;
    expect((await getTask(id.slice(0, 6))).body.id).toBe(id);
  });
});

describe("resolveTaskRef", () => {
  const slot = (over: Partial<Task>) => makeTask({ job: "web", group: "http", index: 0, ...over });
  const lookup = (tasks: Task[]) => ({
    byId: (id: string) => tasks.find((t) => t.id === id),
    ofJob: (j: string) => tasks.filter((t) => t.job === j),
    byPrefix: (p: string) => tasks.find((t) => t.id.startsWith(p)),
  });

  test("prefers the slot's task meant to run, then one still stopping, then the newest gone one", () => {
    const failed = slot({ id: "a-failed", state: "failed", createdAt: 30 });
    const stopping = slot({ id: "b-stopping", state: "running", desired: "stopped", createdAt: 10 });
    const pending = slot({ id: "c-pending", state: "pending", createdAt: 20 });
    expect(resolveTaskRef("web.http.0", lookup([failed, stopping, pending]))?.id).toBe("c-pending");
    expect(resolveTaskRef("web.http.0", lookup([failed, stopping]))?.id).toBe("b-stopping");
    const older = slot({ id: "d-older", state: "completed", createdAt: 5 });
    expect(resolveTaskRef("web.http.0", lookup([older, failed]))?.id).toBe("a-failed");
  });

  test("a full id wins over a name, and a prefix is the last resort", () => {
    const task = slot({ id: "0123abcd-0000" });
    expect(resolveTaskRef("0123abcd-0000", lookup([task]))?.id).toBe(task.id);
    expect(resolveTaskRef("0123", lookup([task]))?.id).toBe(task.id);
    expect(resolveTaskRef("web.http.1", lookup([task]))).toBeUndefined();
  });

  test("task names parse only as JOB.GROUP.INDEX", () => {
    expect(parseTaskName("web.http.12")).toEqual({ job: "web", group: "http", index: 12 });
    for (const text of ["web.http", "web.http.x", "a.b.c.1", "web..1", "0123abcd"]) expect(parseTaskName(text)).toBeNull();
  });
});
