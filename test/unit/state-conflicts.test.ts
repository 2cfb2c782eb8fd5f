import { beforeEach, describe, expect, test } from "bun:test";
import type { NodeView, TaskView } from "../../src/model/api-types.ts";
import { ApiHarness } from "./api-harness.ts";

let h: ApiHarness;
beforeEach(() => {
  h = new ApiHarness();
});

const job = (name: string, count = 1) => ({ name, tasks: [{ name: "main", image: "img", count, resources: { cpu: 0.5, memory: 64 } }] });

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await h.call(method, path, body);
  return { status: res.status, body: (await res.json()) as T };
}

type ErrorBody = { error: { code: string; message: string } };

describe("a request that does not fit the state is a 4xx that says why", () => {
  test("scaling a stopped job is a 409 and leaves it stopped", async () => {
    await h.register("a");
    await call("POST", "/v1/jobs", job("web", 2));
    await call("DELETE", "/v1/jobs/web");
    const scaled = await call<ErrorBody>("POST", "/v1/jobs/web/scale", { group: "main", count: 3 });
    expect(scaled.status).toBe(409);
    expect(scaled.body.error.message).toBe("job web is stopped: submit it again (cube run) to start it, then scale it");
    const detail = await h.jobDetail("web");
    expect(detail.status).toBe("stopped");
    expect(detail.version).toBe(1);
  });

  test("stopping a task that is stopping or stopped is a 409", async () => {
    const a = await h.register("a");
    await call("POST", "/v1/jobs", job("web"));
    h.manager.reconcileNow();
    const [task] = (await h.jobDetail("web")).tasks;
    expect((await call<TaskView>("POST", `/v1/tasks/${task?.id}/stop`)).body.desired).toBe("stopped");
    const again = await call<ErrorBody>("POST", `/v1/tasks/${task?.id}/stop`);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe(`task web.main.0 is already stopping`);
    await call("POST", `/v1/nodes/${a}/tasks`, { reports: [{ taskId: task?.id, state: "stopped", message: "stopped" }] });
    const gone = await call<ErrorBody>("POST", `/v1/tasks/${task?.id}/stop`);
    expect(gone.status).toBe(409);
    expect(gone.body.error.message).toBe(`task web.main.0 is already stopped`);
  });

  test("draining twice is fine; eligibility of an unknown node is a 404", async () => {
    await h.register("a");
    const first = await call<NodeView>("POST", "/v1/nodes/a/drain");
    const second = await call<NodeView>("POST", "/v1/nodes/a/drain");
    expect([first.status, second.status]).toEqual([200, 200]);
    // Nothing ran there, so the drain is done at once: ready, and still ineligible.
    expect(second.body).toMatchObject({ name: "a", status: "ready", eligible: false });
    for (const eligible of [true, false]) {
      const unknown = await call<ErrorBody>("POST", "/v1/nodes/nope/eligibility", { eligible });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.message).toBe("node nope does not exist");
    }
  });

  test("stopping a job twice is fine, and so is purging it after; then it is gone", async () => {
    await h.register("a");
    await call("POST", "/v1/jobs", job("web"));
    expect((await call("DELETE", "/v1/jobs/web")).status).toBe(200);
    expect((await call("DELETE", "/v1/jobs/web")).status).toBe(200);
    expect((await call("DELETE", "/v1/jobs/web?purge=true")).status).toBe(200);
    expect((await call("DELETE", "/v1/jobs/web")).status).toBe(404);
    expect((await call("POST", "/v1/jobs/web/revert", { version: 1 })).status).toBe(404);
  });
});

describe("commands answer with views", () => {
  test("drain and eligibility answer with the node's view: what is allocated there and how many tasks", async () => {
    await h.register("a");
    await call("POST", "/v1/jobs", job("web", 2));
    h.manager.reconcileNow();
    const drained = await call<NodeView>("POST", "/v1/nodes/a/drain");
    expect(drained.body).toMatchObject({ name: "a", status: "draining", eligible: false, taskCount: 2, allocated: { cpu: 1, memory: 128, disk: 0 } });
    const eligible = await call<NodeView>("POST", "/v1/nodes/a/eligibility", { eligible: true });
    expect(eligible.body).toMatchObject({ status: "ready", eligible: true, taskCount: 2, allocated: { cpu: 1, memory: 128, disk: 0 } });
    const listed = (await call<{ nodes: NodeView[] }>("GET", "/v1/nodes")).body.nodes[0];
    expect(listed).toEqual(eligible.body);
  });
});
