import { describe, expect, test } from "bun:test";
import { dependencyHold } from "../../src/manager/dependency-holds.ts";
import { dependencyCycle } from "../../src/model/job-dependencies.ts";
import { JobValidationError, validateJob } from "../../src/model/job-schema.ts";
import { makeJob, makeJobSpec, makeTask, makeTaskSpec } from "./fixtures.ts";
import { ManagerFixture } from "./manager-fixture.ts";

const image = "cube-test/busybox:latest";
const check = { exec: ["true"] };

function issues(input: unknown): string[] {
  try {
    validateJob(input);
    return [];
  } catch (err) {
    if (!(err instanceof JobValidationError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

describe("depends_on in a job file", () => {
  test("short and long conditions are kept; default started", () => {
    const spec = validateJob({
      name: "app",
      tasks: [
        { name: "db", image, health: check },
        { name: "api", image, depends_on: [{ task: "db", condition: "healthy" }, { task: "cache" }] },
        { name: "cache", image },
      ],
    });
    expect(spec.tasks[1]?.dependsOn).toEqual([{ task: "db", condition: "healthy" }, { task: "cache", condition: "started" }]);
    expect(spec.tasks[0]?.dependsOn).toBeUndefined();
  });

  test("a cycle is refused, naming it", () => {
    const found = issues({
      name: "app",
      tasks: [
        { name: "a", image, depends_on: [{ task: "b" }] },
        { name: "b", image, depends_on: [{ task: "c" }] },
        { name: "c", image, depends_on: [{ task: "a" }] },
      ],
    });
    expect(found).toEqual(["tasks: depends_on forms a cycle: a → b → c → a"]);
  });

  test("unknown names, itself, healthy without a check, completed of a task that never completes", () => {
    const found = issues({
      name: "app",
      tasks: [
        { name: "a", image, depends_on: [{ task: "nope" }, { task: "b", condition: "healthy" }, { task: "c", condition: "completed" }] },
        { name: "b", image },
        { name: "c", image },
        { name: "d", image, depends_on: [{ task: "d" }] },
      ],
    });
    expect(found).toContain('tasks[0].depends_on[0].task: no task named "nope" in this job');
    expect(found).toContain("tasks[0].depends_on[1].condition: b has no health check, so it is never healthy: give it one, or wait for started");
    expect(found).toContain("tasks[0].depends_on[2].condition: c never completes in a service job: give it restart: { condition: on-failure }, or wait for started");
    expect(found).toContain("tasks[3].depends_on[0].task: task d cannot depend on itself");
  });

  test("completed is fine for a one-off step (restart on failure) and in a batch job", () => {
    const step = { name: "migrate", image, restart: { condition: "on-failure" } };
    expect(issues({ name: "app", tasks: [step, { name: "api", image, depends_on: [{ task: "migrate", condition: "completed" }] }] })).toEqual([]);
    expect(issues({ name: "app", type: "batch", tasks: [{ name: "m", image }, { name: "n", image, depends_on: [{ task: "m", condition: "completed" }] }] })).toEqual([]);
  });

  test("dependencyCycle finds none in a diamond", () => {
    const groups = [{ name: "a" }, { name: "b", depends_on: [{ task: "a", condition: "started" as const }] }, { name: "c", depends_on: [{ task: "a", condition: "started" as const }] }, { name: "d", depends_on: [{ task: "b", condition: "started" as const }, { task: "c", condition: "started" as const }] }];
    expect(dependencyCycle(groups)).toBeNull();
  });
});

describe("dependencyHold", () => {
  const spec = makeJobSpec("web", [
    { name: "db", count: 1, health: { kind: "exec", command: ["true"], intervalMs: 1000, timeoutMs: 1000, failures: 1 } },
    { name: "api", count: 1, dependsOn: [{ task: "db", condition: "healthy" }] },
  ]);
  const job = makeJob(spec);
  const api = spec.tasks[1] as (typeof spec.tasks)[number];

  test("waits until every replica of the dependency meets the condition", () => {
    expect(dependencyHold(job, api, [])).toBe("waiting for db to be healthy (0 of 1)");
    expect(dependencyHold(job, api, [makeTask({ group: "db", health: "starting" })])).toBe("waiting for db to be healthy (0 of 1)");
    expect(dependencyHold(job, api, [makeTask({ group: "db", health: "healthy" })])).toBeNull();
  });

  test("a group that got past pending is never held back again (updates, restarts)", () => {
    expect(dependencyHold(job, api, [makeTask({ group: "api", state: "scheduled" })])).toBeNull();
    expect(dependencyHold(job, api, [makeTask({ group: "api", state: "pending", nodeId: null })])).toBe("waiting for db to be healthy (0 of 1)");
  });

  test("completed counts the dependency's slots of the current version", () => {
    const s = makeJobSpec("web", [{ name: "m", restart: { attempts: 0, intervalMs: 1, delayMs: 1, mode: "fail", condition: "on-failure" } }, { name: "api", dependsOn: [{ task: "m", condition: "completed" }] }]);
    const g = s.tasks[1] as (typeof s.tasks)[number];
    expect(dependencyHold(makeJob(s, 2), g, [makeTask({ group: "m", state: "completed", jobVersion: 1 })])).toBe("waiting for m to complete successfully (0 of 1)");
    expect(dependencyHold(makeJob(s, 2), g, [makeTask({ group: "m", state: "completed", jobVersion: 2 })])).toBeNull();
  });
});

describe("depends_on in the manager", () => {
  test("the dependent group is created pending with why, and placed once the dependency is healthy", async () => {
    const f = new ManagerFixture();
    f.join("w1");
    const health = { kind: "exec" as const, command: ["true"], intervalMs: 1000, timeoutMs: 1000, failures: 1 };
    f.manager.submitJob(makeJobSpec("app", [makeTaskSpec({ name: "db", health }), makeTaskSpec({ name: "api", dependsOn: [{ task: "db", condition: "healthy" }] })]));
    f.manager.reconcileNow();
    const api = () => f.tasks("app").find((t) => t.group === "api");
    const db = f.tasks("app").find((t) => t.group === "db");
    expect(db?.state).toBe("scheduled");
    expect(api()).toMatchObject({ state: "pending", nodeId: null, message: "waiting for db to be healthy (0 of 1)" });

    await f.report(db as NonNullable<typeof db>, { state: "running", message: "started", health: "starting" });
    f.manager.reconcileNow();
    expect(api()?.state).toBe("pending");

    await f.report(db as NonNullable<typeof db>, { state: "running", message: "health check passing", health: "healthy" });
    f.manager.reconcileNow();
    expect(api()?.state).toBe("scheduled");
  });

  test("a one-off step completes and stays done; its dependant starts after it", async () => {
    const f = new ManagerFixture();
    f.join("w1");
    const once = { attempts: 0, intervalMs: 60_000, delayMs: 1_000, mode: "fail" as const, condition: "on-failure" as const };
    f.manager.submitJob(makeJobSpec("app", [makeTaskSpec({ name: "migrate", restart: once }), makeTaskSpec({ name: "api", dependsOn: [{ task: "migrate", condition: "completed" }] })]));
    f.manager.reconcileNow();
    const step = f.tasks("app").find((t) => t.group === "migrate") as NonNullable<ReturnType<typeof f.tasks>[number]>;
    await f.report(step, { state: "running", message: "started" }, { state: "completed", message: "exit code 0", exitCode: 0 });
    f.manager.reconcileNow();
    expect(f.tasks("app").filter((t) => t.group === "migrate").map((t) => t.state)).toEqual(["completed"]);
    expect(f.tasks("app").find((t) => t.group === "api")?.state).toBe("scheduled");
  });
});
