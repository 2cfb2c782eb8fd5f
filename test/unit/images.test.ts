import { afterEach, describe, expect, test } from "bun:test";
import { requirementOf } from "../../src/api/route-roles.ts";
import { imageRef } from "../../src/manager/image-catalog.ts";
import type { NodeImages } from "../../src/model/api-types.ts";
import { openStore } from "../../src/store/index.ts";
import { ApiHarness } from "./api-harness.ts";
import { makeJobSpec } from "./fixtures.ts";
import { ManagerFixture } from "./manager-fixture.ts";

const stats = { cpuPercent: 1, memoryUsedMb: 1, diskUsedMb: 1, at: 0 };
const images = (digest: string, refs: string[], unpullable: NodeImages["unpullable"] = []): NodeImages => ({ digest, refs, unpullable });
const LOCAL = "myapp:1.0";
const NOT_PULLED = { image: LOCAL, message: 'image "myapp:1.0" not found locally and could not be pulled: pull access denied for myapp', at: 0 };

const fixtures: ManagerFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.manager.stop();
});

function cluster(store = openStore(":memory:")): { f: ManagerFixture; a: string; b: string } {
  const f = new ManagerFixture(store);
  fixtures.push(f);
  return { f, a: f.join("a"), b: f.join("b") };
}

const submit = (f: ManagerFixture, type: "service" | "batch" = "service") => {
  f.manager.submitJob(makeJobSpec("app", [{ image: LOCAL, count: 2, resources: { cpu: 0.1, memory: 64, disk: 0 } }], { type }));
  f.manager.reconcileNow();
};

describe("where a task's image is", () => {
  test("an image no node failed to pull may go anywhere, as a registry may supply it", () => {
    const { f, a, b } = cluster();
    f.manager.heartbeat(a, stats, [], images("a1", ["sha256:1", LOCAL]));
    f.manager.setNodeEligibility(a, false);
    submit(f);
    // Node b has no copy, and nothing says it cannot pull one.
    expect(f.tasks("app").map((t) => [t.state, t.nodeId])).toEqual([["scheduled", b], ["scheduled", b]]);
  });

  test("once a pull failed, the image's tasks go only where it is; on no node they stay pending saying why, until it is pushed", () => {
    const { f, a, b } = cluster();
    f.manager.heartbeat(a, stats, [], images("a1", ["sha256:1"], [NOT_PULLED]));
    f.manager.heartbeat(b, stats, [], images("b1", ["sha256:2", LOCAL]));
    submit(f);
    expect(f.tasks("app").map((t) => t.nodeId)).toEqual([b, b]);

    f.manager.submitJob(makeJobSpec("app", [{ image: LOCAL, count: 2, resources: { cpu: 0.1, memory: 64, disk: 0 } }], { type: "service" }));
    f.manager.heartbeat(b, stats, [], images("b2", ["sha256:2"]));
    f.manager.stopJob("app", true);
    submit(f);
    const pending = f.tasks("app");
    expect(pending.map((t) => t.state)).toEqual(["pending", "pending"]);
    expect(pending[0]?.message).toBe(`no node can run it: 2 nodes: image ${LOCAL} is not on this node and cannot be pulled (${NOT_PULLED.message}); push it with cube image push ${LOCAL}`);

    // A push into node a: the waiting tasks are placed there.
    f.manager.imageLoaded(a, [LOCAL]);
    f.manager.reconcileNow();
    expect(f.tasks("app").map((t) => [t.state, t.nodeId])).toEqual([["scheduled", a], ["scheduled", a]]);
  });

  test("a worker sends its images only when the manager does not hold them: heartbeats answer with the digest held", () => {
    const store = openStore(":memory:");
    const { f, a } = cluster(store);
    expect(f.manager.heartbeat(a, stats).images).toBeNull();
    expect(f.manager.heartbeat(a, stats, [], images("a1", [LOCAL])).images).toBe("a1");
    expect(f.manager.heartbeat(a, stats).images).toBe("a1");
    f.manager.stop();
    // A manager started again holds nothing: the worker's next heartbeat carries the list.
    const again = new ManagerFixture(store);
    fixtures.push(again);
    expect(again.manager.heartbeat(a, stats).images).toBeNull();
  });

  test("references compare as engines list them", () => {
    expect(imageRef("busybox")).toBe("busybox:latest");
    expect(imageRef("docker.io/library/busybox:1.36")).toBe("busybox:1.36");
    expect(imageRef("registry.local:5000/team/app")).toBe("registry.local:5000/team/app:latest");
    expect(imageRef("app@sha256:abc")).toBe("app@sha256:abc");
  });
});

describe("the image routes", () => {
  test("loading an image needs an admin token; asking which nodes have one needs read", () => {
    expect(requirementOf("POST", "/v1/images/load").requires).toBe("admin");
    expect(requirementOf("GET", "/v1/images/nodes").requires).toBe("read");
  });

  test("a push names nodes that exist and are not down, or goes to every ready, eligible node", async () => {
    const h = new ApiHarness();
    await h.register("w1");
    await h.register("w2");
    const ask = async (query: string) => {
      const res = await h.call("GET", `/v1/images/nodes?${query}`);
      return { status: res.status, body: (await res.json()) as { nodes?: { nodeName: string; id: string | null; error?: string }[]; error?: { message: string } } };
    };
    expect((await ask("")).body.error?.message).toBe("query parameter image is required (e.g. ?image=busybox:latest)");
    expect((await ask("image=x&node=nope")).status).toBe(404);
    // The workers (at a port nothing listens on) cannot be asked: each node says so.
    const all = await ask("image=x");
    expect(all.body.nodes?.map((n) => n.nodeName)).toEqual(["w1", "w2"]);
    expect(all.body.nodes?.[0]?.error).toContain("cannot reach worker w1");
    expect((await ask("image=x&node=w2")).body.nodes?.map((n) => n.nodeName)).toEqual(["w2"]);
    h.clock += 60_000;
    h.manager.checkLiveness();
    expect((await ask("image=x&node=w2")).body.error?.message).toBe("node w2 is down: an image can be pushed to it once it is back");
    expect((await ask("image=x")).body.error?.message).toBe("no node is ready and eligible to push an image to");
  });
});
