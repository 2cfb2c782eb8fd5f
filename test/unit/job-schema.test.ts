import { describe, expect, test } from "bun:test";
import { formatDuration, parseDuration } from "../../src/model/duration.ts";
import { parseJobFile, validateJob } from "../../src/model/job-schema.ts";
import { issuesOf } from "./fixtures.ts";

const minimal = { name: "web", tasks: [{ name: "http", image: "cube-test/busybox:latest" }] };

describe("durations", () => {
  test("parse every unit", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("5")).toBeUndefined();
    expect(parseDuration("5 sec")).toBeUndefined();
  });
  test("format back to the largest exact unit", () => {
    expect(formatDuration(300_000)).toBe("5m");
    expect(formatDuration(1500)).toBe("1500ms");
    expect(formatDuration(3_600_000)).toBe("1h");
  });
});

describe("validateJob", () => {
  test("fills defaults", () => {
    const job = validateJob(minimal);
    expect(job.type).toBe("service");
    expect(job.datacenters).toEqual([]);
    const task = job.tasks[0];
    expect(task?.count).toBe(1);
    expect(task?.resources).toEqual({ cpu: 0.1, memory: 64, disk: 0 });
    expect(task?.restart).toEqual({ attempts: 2, intervalMs: 1_800_000, delayMs: 15_000, mode: "fail" });
  });

  test("batch jobs get the batch restart defaults", () => {
    expect(validateJob({ ...minimal, type: "batch" }).tasks[0]?.restart.attempts).toBe(3);
  });

  test("parses the architecture's example job file", () => {
    const job = parseJobFile(`
name: web
type: service
datacenters: [dc1]
tasks:
  - name: http
    image: cube-test/busybox:latest
    command: ["httpd", "-f", "-p", "8080"]
    count: 3
    env: { GREETING: hello, PORT: 8080 }
    resources: { cpu: 0.1, memory: 64, disk: 10 }
    ports: [{ name: http, container: 8080 }]
    restart: { attempts: 3, interval: 5m, delay: 1s, mode: fail }
    health: { http: /, port: http, interval: 5s, timeout: 2s, failures: 3 }
    constraints: [{ attribute: node.label.disk, operator: "=", value: ssd }]
`);
    const task = job.tasks[0];
    expect(task?.env).toEqual({ GREETING: "hello", PORT: "8080" });
    expect(task?.restart).toEqual({ attempts: 3, intervalMs: 300_000, delayMs: 1_000, mode: "fail" });
    expect(task?.health).toEqual({ kind: "http", path: "/", port: "http", intervalMs: 5_000, timeoutMs: 2_000, failures: 3 });
    expect(task?.constraints).toEqual([{ attribute: "node.label.disk", operator: "=", value: "ssd" }]);
  });

  test("JSON and YAML give the same job", () => {
    expect(parseJobFile(JSON.stringify(minimal), "json")).toEqual(parseJobFile("name: web\ntasks:\n  - name: http\n    image: cube-test/busybox:latest\n", "yaml"));
  });

  test("errors carry the field path", () => {
    expect(issuesOf({ ...minimal, tasks: [{ name: "http", image: "x", resources: { memory: "lots" } }] })).toEqual([
      { path: "tasks[0].resources.memory", message: expect.stringContaining("expected number") },
    ]);
  });

  test("unknown fields are rejected by name", () => {
    expect(issuesOf({ ...minimal, replicas: 3 })).toEqual([{ path: "replicas", message: "unknown field" }]);
    expect(issuesOf({ name: "web", tasks: [{ name: "http", image: "x", cpu: 1 }] })).toEqual([{ path: "tasks[0].cpu", message: "unknown field" }]);
  });

  test("names, counts, ports and durations are checked", () => {
    expect(issuesOf({ ...minimal, name: "Web_1" })[0]?.path).toBe("name");
    expect(issuesOf({ name: "web", tasks: [] })[0]?.message).toBe("a job needs at least one task");
    expect(issuesOf({ name: "web", tasks: [{ name: "a", image: "x", count: -1 }] })[0]?.path).toBe("tasks[0].count");
    expect(issuesOf({ name: "web", tasks: [{ name: "a", image: "x", ports: [{ name: "p", container: 70000 }] }] })[0]?.path).toBe("tasks[0].ports[0].container");
    expect(issuesOf({ name: "web", tasks: [{ name: "a", image: "x", restart: { delay: "soon" } }] })).toEqual([
      { path: "tasks[0].restart.delay", message: '"soon" is not a duration (use e.g. 500ms, 5s, 5m, 1h)' },
    ]);
    expect(issuesOf({ name: "web", tasks: [{ name: "a", image: "x", env: { "BAD-KEY": "v" } }] })[0]?.path).toBe("tasks[0].env.BAD-KEY");
  });

  test("cross-field problems name the field", () => {
    expect(issuesOf({ name: "web", tasks: [{ name: "a", image: "x" }, { name: "a", image: "y" }] })).toEqual([{ path: "tasks[1].name", message: 'task name "a" is used twice' }]);
    expect(issuesOf({ name: "web", tasks: [{ name: "a", image: "x", health: { http: "/", port: "web" } }] })).toEqual([
      { path: "tasks[0].health", message: 'port "web" is not declared in tasks[0].ports' },
    ]);
    expect(issuesOf({ name: "web", tasks: [{ name: "a", image: "x", health: { http: "/", tcp: "p" } }] }).map((i) => i.message)).toContain("give exactly one of http, tcp or exec");
  });

  test("broken YAML and JSON say which they are", () => {
    expect(() => parseJobFile("name: [", "yaml")).toThrow(/not valid YAML/);
    expect(() => parseJobFile('{"name": 1', "json")).toThrow(/not valid JSON/);
  });

  test("system jobs run one task per node whatever the count", () => {
    expect(validateJob({ ...minimal, type: "system", tasks: [{ name: "a", image: "x", count: 5 }] }).tasks[0]?.count).toBe(1);
  });
});
