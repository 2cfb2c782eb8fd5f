import { describe, expect, test } from "bun:test";
import { createManagerApp } from "../../src/api/manager-app.ts";
import { containerSpec } from "../../src/driver/docker/container-spec.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { Manager } from "../../src/manager/manager.ts";
import { type ContainerPolicy, parseAllowList, policyIssues } from "../../src/model/container-policy.ts";
import { JobValidationError, validateJob } from "../../src/model/job-schema.ts";
import { openStore } from "../../src/store/index.ts";
import { TestTokens } from "../support/test-tokens.ts";

const task = (extra: Record<string, unknown>) => ({ name: "web", tasks: [{ name: "main", image: "img", ...extra }] });
const issuesOf = (input: unknown): string[] => {
  try {
    validateJob(input);
    return [];
  } catch (err) {
    return (err as JobValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
};

describe("host access in job files", () => {
  test("privileged, network_mode, cap_add and mounts are read into the spec", () => {
    const spec = validateJob(task({ privileged: true, network_mode: "host", cap_add: ["net_admin", "CAP_SYS_TIME"], mounts: [{ source: "/srv/data", target: "/data", readonly: true }] }));
    expect(spec.tasks[0]).toMatchObject({ privileged: true, networkMode: "host", capAdd: ["NET_ADMIN", "SYS_TIME"], mounts: [{ source: "/srv/data", target: "/data", readonly: true }] });
    // Absent stays absent, so specs stored before these fields existed compare equal.
    expect(Object.keys(validateJob(task({})).tasks[0] ?? {})).not.toContain("privileged");
  });

  test("bad values are refused with their field paths", () => {
    expect(issuesOf(task({ network_mode: "container:other" }))[0]).toStartWith("tasks[0].network_mode:");
    expect(issuesOf(task({ cap_add: ["NET ADMIN"] }))[0]).toStartWith("tasks[0].cap_add[0]:");
    expect(issuesOf(task({ mounts: [{ source: "data", target: "/data" }] }))[0]).toBe("tasks[0].mounts[0].source: must be an absolute path without ':'");
    expect(issuesOf(task({ mounts: [{ source: "/srv/../etc", target: "/data" }] }))[0]).toBe("tasks[0].mounts[0].source: must not contain '.' or '..' segments");
    expect(issuesOf(task({ mounts: [{ source: "/srv:/etc", target: "/data" }] }))[0]).toStartWith("tasks[0].mounts[0].source:");
    expect(issuesOf(task({ mounts: [{ source: "/srv", target: "/data", mode: "rw" }] }))[0]).toBe("tasks[0].mounts[0].mode: unknown field");
  });
});

describe("the --allow list", () => {
  const asking = validateJob(task({ privileged: true, network_mode: "host", cap_add: ["NET_ADMIN", "SYS_TIME"], mounts: [{ source: "/srv/data/x", target: "/x" }, { source: "/etc", target: "/etc2" }] }));

  test("by default every kind of host access is refused, each naming its field and the flag that allows it", () => {
    expect(policyIssues(asking, parseAllowList([])).map((i) => `${i.path}: ${i.message}`)).toEqual([
      "tasks[0].privileged: a privileged container is not allowed on this cluster (the manager allows it with --allow=privileged)",
      "tasks[0].network_mode: the host's network is not allowed on this cluster (the manager allows it with --allow=host-network)",
      "tasks[0].cap_add[0]: capability NET_ADMIN is not allowed on this cluster (the manager allows it with --allow=cap:NET_ADMIN)",
      "tasks[0].cap_add[1]: capability SYS_TIME is not allowed on this cluster (the manager allows it with --allow=cap:SYS_TIME)",
      "tasks[0].mounts[0].source: mounting the host's /srv/data/x is not allowed on this cluster (the manager allows it with --allow=bind-mounts)",
      "tasks[0].mounts[1].source: mounting the host's /etc is not allowed on this cluster (the manager allows it with --allow=bind-mounts)",
    ]);
    expect(policyIssues(validateJob(task({ network_mode: "none", cap_add: [] })), parseAllowList([]))).toEqual([]);
  });

  test("each item allows exactly its kind; a path prefix allows only what is under it", () => {
    const policy = parseAllowList(["privileged", "host-network", "cap:net_admin", "bind-mounts:/srv/data/"]);
    expect(policyIssues(asking, policy).map((i) => i.path)).toEqual(["tasks[0].cap_add[1]", "tasks[0].mounts[1].source"]);
    expect(policyIssues(validateJob(task({ mounts: [{ source: "/srv/database", target: "/x" }] })), policy).map((i) => i.path)).toEqual(["tasks[0].mounts[0].source"]);
    expect(policyIssues(asking, parseAllowList(["privileged", "host-network", "cap:ALL", "bind-mounts"]))).toEqual([]);
  });

  test("an unknown item is an error naming it", () => {
    expect(() => parseAllowList(["privileged", "root"])).toThrow('--allow: "root" is not one of privileged, host-network, bind-mounts');
  });
});

describe("the manager", () => {
  async function submit(policy: ContainerPolicy | undefined, job: unknown, maxTasksPerJob?: number) {
    const log = createLogger("test", "error");
    const manager = new Manager({ store: openStore(":memory:"), log, containerPolicy: policy, maxTasksPerJob });
    const app = createManagerApp({ manager, log, version: "test" });
    const headers = { ...new TestTokens(manager.tokens).headers("/v1/jobs"), "content-type": "application/json" };
    const res = await app.request("/v1/jobs", { method: "POST", headers, body: JSON.stringify(job) });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } }, jobs: manager.listJobs().items.length };
  }

  test("refuses a privileged job with a 400 naming the field, and stores nothing; --allow=privileged takes it", async () => {
    const refused = await submit(undefined, task({ privileged: true }));
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe("invalid_job");
    expect(refused.body.error?.message).toContain("tasks[0].privileged: a privileged container is not allowed on this cluster");
    expect(refused.jobs).toBe(0);
    expect((await submit(parseAllowList(["privileged"]), task({ privileged: true }))).status).toBe(201);
  });

  test("refuses a job asking for more tasks than --max-tasks-per-job", async () => {
    const job = { name: "big", tasks: [{ name: "a", image: "img", count: 6 }, { name: "b", image: "img", count: 5 }] };
    const refused = await submit(undefined, job, 10);
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toContain("tasks: the job asks for 11 tasks; this manager takes at most 10 per job");
    expect((await submit(undefined, job, 11)).status).toBe(201);
  });
});

describe("the container the driver creates", () => {
  const config = (extra: Record<string, unknown>) => {
    const spec = validateJob(task({ resources: { cpu: 0.5, memory: 32 }, ...extra })).tasks[0] as ReturnType<typeof validateJob>["tasks"][0];
    return containerSpec({ taskId: "0123456789", job: "web", group: "main", index: 0, nodeId: "n1", spec }, {});
  };

  test("an ordinary task gets no host access, and always its limits", () => {
    const host = config({}).HostConfig;
    expect(host).toMatchObject({ Privileged: false, Memory: 32 * 1024 * 1024, NanoCpus: 500_000_000 });
    expect(host?.NetworkMode).toBeUndefined();
    expect(host?.CapAdd).toBeUndefined();
    expect(host?.Mounts).toBeUndefined();
  });

  test("what an allowed task asks for reaches the engine", () => {
    const host = config({ privileged: true, network_mode: "host", cap_add: ["NET_ADMIN"], mounts: [{ source: "/srv", target: "/data", readonly: true }] }).HostConfig;
    expect(host).toMatchObject({ Privileged: true, NetworkMode: "host", CapAdd: ["NET_ADMIN"], Mounts: [{ Type: "bind", Source: "/srv", Target: "/data", ReadOnly: true }], Memory: 32 * 1024 * 1024 });
  });
});
