import { describe, expect, test } from "bun:test";
import { toJobFile } from "../../src/cli/job.ts";
import { ConflictError, NotFoundError } from "../../src/lib/errors.ts";
import { jobServing } from "../../src/manager/service-catalog.ts";
import type { ClusterEvent } from "../../src/model/api-types.ts";
import type { TaskSpec } from "../../src/model/job.ts";
import { parseJobFile, validateJob } from "../../src/model/job-schema.ts";
import { issuesOf, makeJob, makeJobSpec, makeNode, makeTask } from "./fixtures.ts";
import { ManagerFixture } from "./manager-fixture.ts";

const web: Partial<TaskSpec> = {
  ports: [{ name: "http", container: 8080 }],
  services: [{ name: "web", port: "http", tags: ["v1"] }],
  ingress: [{ host: "shop.example.com", path: "/", port: "http" }],
};

describe("job file: services and ingress", () => {
  const task = { name: "http", image: "x", ports: [{ name: "http", container: 8080 }] };

  test("a service or ingress rule naming a port the task does not have is refused with the field's path", () => {
    const issues = issuesOf({ name: "web", tasks: [{ ...task, services: [{ name: "web", port: "admin" }], ingress: [{ host: "a.example.com", port: "nope" }] }] });
    expect(issues).toContainEqual({ path: "tasks[0].services[0].port", message: 'port "admin" is not declared in tasks[0].ports' });
    expect(issues).toContainEqual({ path: "tasks[0].ingress[0].port", message: 'port "nope" is not declared in tasks[0].ports' });
  });

  test("service names are DNS labels; hosts are host names; paths start with /", () => {
    const issues = issuesOf({ name: "web", tasks: [{ ...task, services: [{ name: "Web_1", port: "http" }], ingress: [{ host: "bad host", port: "http", path: "api" }] }] });
    expect(issues.map((i) => i.path).sort()).toEqual(["tasks[0].ingress[0].host", "tasks[0].ingress[0].path", "tasks[0].services[0].name"]);
  });

  test("a task with services gets a 5 s shutdown delay unless it gives one; the stored spec prints back to itself", () => {
    const spec = validateJob({ name: "web", tasks: [{ ...task, services: [{ name: "web", port: "http" }], ingress: [{ host: "Shop.Example.com", port: "http" }] }] });
    expect(spec.tasks[0]).toMatchObject({ shutdownDelayMs: 5_000, services: [{ name: "web", port: "http", tags: [] }], ingress: [{ host: "shop.example.com", path: "/", port: "http" }] });
    expect(validateJob({ name: "plain", tasks: [task] }).tasks[0]?.shutdownDelayMs).toBeUndefined();
    expect(validateJob({ name: "web", tasks: [{ ...task, shutdown_delay: "0s", services: [{ name: "web", port: "http" }] }] }).tasks[0]?.shutdownDelayMs).toBe(0);
    expect(parseJobFile(Bun.YAML.stringify(toJobFile(spec), null, 2))).toEqual(spec);
  });

  test("one route twice in a job, or one service twice in a task, is refused", () => {
    const issues = issuesOf({
      name: "web",
      tasks: [
        { ...task, services: [{ name: "web", port: "http" }, { name: "web", port: "http" }], ingress: [{ host: "a.example.com", port: "http" }] },
        { ...task, name: "other", ingress: [{ host: "a.example.com", port: "http" }] },
      ],
    });
    expect(issues.map((i) => i.path)).toEqual(["tasks[0].services[1].name", "tasks[1].ingress[0]"]);
  });
});

describe("jobServing (pure)", () => {
  const node = makeNode("a");
  const spec = makeJobSpec("web", [{ ...web, health: { kind: "http", path: "/", port: "http", intervalMs: 1000, timeoutMs: 1000, failures: 1 } }]);
  const nodes = (id: string) => (id === node.id ? node : undefined);

  test("running tasks with their port bound are endpoints: healthy once their check passes, stopping once asked to stop", () => {
    const tasks = [
      makeTask({ job: "web", index: 0, nodeId: node.id, hostPorts: { http: 30001 }, health: "healthy" }),
      makeTask({ job: "web", index: 1, nodeId: node.id, hostPorts: { http: 30002 }, health: "starting" }),
      makeTask({ job: "web", index: 2, nodeId: node.id, hostPorts: { http: 30003 }, health: "healthy", desired: "stopped" }),
      makeTask({ job: "web", index: 3, nodeId: node.id, hostPorts: {}, state: "scheduled" }),
    ];
    const serving = jobServing({ job: makeJob(spec), tasks, specOf: () => spec, node: nodes });
    expect(serving.services).toHaveLength(1);
    expect(serving.services[0]?.endpoints.map((e) => [e.name, e.address, e.port, e.containerPort, e.healthy, e.stopping])).toEqual([
      ["web.http.0", "127.0.0.1", 30001, 8080, true, false],
      ["web.http.1", "127.0.0.1", 30002, 8080, false, false],
      ["web.http.2", "127.0.0.1", 30003, 8080, true, true],
    ]);
    expect(serving.ingress[0]).toMatchObject({ host: "shop.example.com", path: "/", job: "web" });
    expect(serving.ingress[0]?.endpoints).toHaveLength(3);
  });

  test("a stopped job declares nothing; a task on a node that is down is no endpoint", () => {
    const down = makeNode("a", { status: "down" });
    const tasks = [makeTask({ job: "web", nodeId: node.id, hostPorts: { http: 30001 }, health: "healthy" })];
    expect(jobServing({ job: makeJob(spec, 1, "stopped"), tasks: [], specOf: () => spec, node: nodes })).toEqual({ services: [], ingress: [] });
    expect(jobServing({ job: makeJob(spec), tasks, specOf: () => spec, node: () => down }).services[0]?.endpoints).toEqual([]);
  });
});

describe("the manager's service directory", () => {
  async function servingFixture() {
    const f = new ManagerFixture();
    const events: ClusterEvent[] = [];
    f.manager.subscribe((e) => events.push(e));
    f.join("a");
    f.manager.submitJob(makeJobSpec("web", [{ ...web, count: 2, resources: { cpu: 0.1, memory: 64, disk: 0 } }]));
    f.manager.reconcileNow();
    for (const [i, task] of f.live("web").entries()) await f.report(task, { state: "running", message: "started", hostPorts: { http: 31000 + i } });
    return { f, events };
  }

  test("lists a job's services and routes with their endpoints, and says so on the events stream", async () => {
    const { f, events } = await servingFixture();
    const service = f.manager.getService("web");
    expect(service).toMatchObject({ name: "web", job: "web", tags: ["v1"] });
    expect(service.endpoints.map((e) => e.port).sort()).toEqual([31000, 31001]);
    expect(f.manager.listServices().map((s) => s.name)).toEqual(["web"]);
    expect(events.filter((e) => e.type === "service" && e.service === "web").at(-1)?.message).toContain("service web: 2 of 2 endpoints healthy");
    expect(() => f.manager.getService("nope")).toThrow(NotFoundError);
  });

  test("a task asked to stop is marked stopping at once, and the workers' long-poll answers", async () => {
    const { f } = await servingFixture();
    const node = f.manager.listNodes().items[0]?.id as string;
    const before = await f.manager.serviceRoutes(node, "", 0);
    const waiting = f.manager.serviceRoutes(node, before.index, 5_000);
    f.manager.stopTask(f.live("web")[0]?.id as string);
    const after = await waiting;
    expect(after.index).not.toBe(before.index);
    expect(after.services[0]?.endpoints.map((e) => e.stopping)).toEqual([true, false]);
    expect(after.ingress[0]?.endpoints.map((e) => e.stopping)).toEqual([true, false]);
  });

  test("a second job claiming a service name or an ingress host is refused with 409 naming the owner; once the owner stops, the name is free", async () => {
    const { f } = await servingFixture();
    const rival = makeJobSpec("rival", [web]);
    expect(() => f.manager.submitJob(rival)).toThrow(ConflictError);
    expect(() => f.manager.submitJob(rival)).toThrow("service web belongs to job web; ingress host shop.example.com belongs to job web");
    f.manager.stopJob("web", false);
    expect(f.manager.submitJob(rival).created).toBe(true);
    expect(() => f.manager.submitJob(makeJobSpec("web", [web]))).toThrow("belongs to job rival");
  });
});
