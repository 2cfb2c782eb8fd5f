import { beforeEach, describe, expect, test } from "bun:test";
import type { AssignmentsResponse, ClusterEvent, JobVersion } from "../../src/model/api-types.ts";
import type { KeyringRotation, SecretPutResult, SecretView, TaskSecret } from "../../src/model/secret.ts";
import { ApiHarness } from "./api-harness.ts";

/**
 * Secrets through the manager's API, without sockets: stored sealed, listed without values, pinned
 * into the jobs that name them, rolled onto them when they change, and given to the worker of a
 * task's own node only.
 */
let h: ApiHarness;

beforeEach(() => {
  h = new ApiHarness();
});

const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "tr0ub4dor&3 is worse";

async function put(name: string, value: string): Promise<{ status: number; body: SecretPutResult }> {
  const res = await h.call("PUT", `/v1/secrets/${name}`, value, "application/octet-stream");
  return { status: res.status, body: (await res.json()) as SecretPutResult };
}

const webJob = (secrets: unknown[] = [{ name: "db_password" }], count = 1) => ({
  name: "web",
  tasks: [{ name: "main", image: "img", count, resources: { cpu: 0.1, memory: 64 }, update: { max_parallel: 1, min_healthy_time: "1s" }, secrets }],
});

async function fetchSecrets(nodeId: string, taskId: string, asNode = nodeId): Promise<Response> {
  return h.app.request(`/v1/nodes/${asNode}/tasks/${taskId}/secrets`, { headers: { authorization: `Bearer ${h.auth.credential(nodeId)}` } });
}

const decode = (secrets: TaskSecret[]) => Object.fromEntries(secrets.map((s) => [s.name, Buffer.from(s.value, "base64").toString("utf8")]));

async function versions(job: string): Promise<JobVersion[]> {
  return ((await (await h.call("GET", `/v1/jobs/${job}/versions`)).json()) as { versions: JobVersion[] }).versions;
}

describe("secrets", () => {
  test("a put makes version 1 (201); the list shows names, versions and users, never the value", async () => {
    const created = await put("db_password", PASSWORD);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ created: true, changed: true, rolled: [], secret: { name: "db_password", version: 1, versions: [1], usedBy: [] } });
    const list = await h.call("GET", "/v1/secrets");
    const text = await list.text();
    expect((JSON.parse(text) as { secrets: SecretView[] }).secrets.map((s) => [s.name, s.version])).toEqual([["db_password", 1]]);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(Buffer.from(PASSWORD).toString("base64"));
    expect((await h.call("GET", "/v1/secrets/nope")).status).toBe(404);
  });

  test("the same value again changes nothing; a name, an empty or an oversized value is refused with 400", async () => {
    await put("db_password", PASSWORD);
    const again = await put("db_password", PASSWORD);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, changed: false, secret: { version: 1 } });
    for (const [path, body, message] of [
      ["/v1/secrets/-leading-dash", "x", "is not a secret name"],
      ["/v1/secrets/empty", "", "it is empty"],
      ["/v1/secrets/huge", "x".repeat(64 * 1024 + 1), "at most 65536 bytes"],
    ] as const) {
      const res = await h.call("PUT", path, body, "application/octet-stream");
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(message);
    }
    expect(((await (await h.call("GET", "/v1/secrets")).json()) as { secrets: SecretView[] }).secrets.map((s) => s.name)).toEqual(["db_password"]);
  });

  test("a job naming a secret that does not exist is refused with 400 naming it, on submit and on plan", async () => {
    for (const path of ["/v1/jobs", "/v1/plan"]) {
      const res = await h.call("POST", path, webJob([{ name: "db_password" }]));
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { message: string; details: { path: string; message: string }[] } };
      expect(body.error.details).toEqual([{ path: "tasks[0].secrets[0].name", message: "secret db_password does not exist (an admin makes it with: cube secret put db_password -)" }]);
    }
    expect((await h.call("GET", "/v1/jobs/web")).status).toBe(404);
  });

  test("a stored job pins each secret to its current version, and a secret in use cannot be removed (409) until its jobs stop", async () => {
    await put("db_password", PASSWORD);
    expect((await h.call("POST", "/v1/jobs", webJob([{ name: "db_password", env: "DB_PASSWORD" }]))).status).toBe(201);
    const job = await h.jobDetail("web");
    expect(job.spec.tasks[0]?.secrets).toEqual([{ name: "db_password", file: "/run/secrets/db_password", env: "DB_PASSWORD", version: 1 }]);
    // The same file again is the same job: the pin is the secret's version, not a change.
    expect(((await (await h.call("POST", "/v1/jobs", webJob([{ name: "db_password", env: "DB_PASSWORD" }]))).json()) as { changed: boolean }).changed).toBe(false);

    const refused = await h.call("DELETE", "/v1/secrets/db_password");
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("secret db_password is used by job web");
    expect(((await (await h.call("GET", "/v1/secrets/db_password")).json()) as SecretView).usedBy).toEqual(["web"]);
    await h.call("DELETE", "/v1/jobs/web");
    expect((await h.call("DELETE", "/v1/secrets/db_password")).status).toBe(200);
    expect((await h.call("GET", "/v1/secrets/db_password")).status).toBe(404);
    expect((await h.call("DELETE", "/v1/secrets/db_password")).status).toBe(404);
  });

  test("a new value is a new version, and every running job that uses the secret gets a new version pinned to it, whose history says why", async () => {
    await put("db_password", PASSWORD);
    await put("unused", "nobody reads me");
    await h.call("POST", "/v1/jobs", webJob());
    await h.call("POST", "/v1/jobs", { ...webJob(), name: "stopped" });
    await h.call("DELETE", "/v1/jobs/stopped");
    await h.call("POST", "/v1/jobs", { ...webJob([]), name: "other" });

    const changed = await put("db_password", NEW_PASSWORD);
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ created: false, changed: true, rolled: ["web"], secret: { version: 2, versions: [1, 2], usedBy: ["web"] } });
    const [latest, first] = await versions("web");
    expect(latest).toMatchObject({ version: 2, reason: "secret db_password changed to version 2" });
    expect(latest?.spec.tasks[0]?.secrets?.[0]?.version).toBe(2);
    expect(first?.reason).toBeUndefined();
    expect((await versions("stopped")).map((v) => v.version)).toEqual([1]);
    expect((await versions("other")).map((v) => v.version)).toEqual([1]);
    const events = ((await (await h.call("GET", "/v1/events/history")).json()) as { events: ClusterEvent[] }).events.map((e) => e.message);
    expect(events).toContain("job web updated to version 2: secret db_password changed to version 2");

    // A secret no stored job version names keeps its current version only.
    expect((await put("unused", "still nobody")).body.secret.versions).toEqual([2]);
  });

  test("the rollout replaces the tasks under the job's update rules, one at a time, each new one fetching the new value", async () => {
    const node = await h.register("n1");
    await put("db_password", PASSWORD);
    await h.call("POST", "/v1/jobs", webJob(undefined, 2));
    h.manager.reconcileNow();
    const old = (await h.jobDetail("web")).tasks;
    for (const task of old) await h.manager.reportTasks(node, [{ taskId: task.id, state: "running", message: "started" }]);
    expect(decode((await (await fetchSecrets(node, old[0]?.id as string)).json()).secrets)).toEqual({ db_password: PASSWORD });

    await put("db_password", NEW_PASSWORD);
    h.manager.reconcileNow();
    const tasks = (await h.jobDetail("web")).tasks;
    // max_parallel 1: one old task is told to stop and one new task takes its slot; the other waits.
    expect(tasks.filter((t) => t.jobVersion === 1 && t.desired === "stopped")).toHaveLength(1);
    const fresh = tasks.filter((t) => t.jobVersion === 2);
    expect(fresh).toHaveLength(1);
    expect(decode((await (await fetchSecrets(node, fresh[0]?.id as string)).json()).secrets)).toEqual({ db_password: NEW_PASSWORD });
    // A task of the old version still starting (say its container restarts) gets the version it was pinned to.
    const waiting = tasks.find((t) => t.jobVersion === 1 && t.desired === "running");
    expect(decode((await (await fetchSecrets(node, waiting?.id as string)).json()).secrets)).toEqual({ db_password: PASSWORD });
  });

  test("a failed rollout is not reverted to a version whose secret was removed since: the job stays, and its events say why", async () => {
    const node = await h.register("n1");
    await put("db_password", PASSWORD);
    const revertable = (secrets: unknown[], image: string) => ({ ...webJob(secrets, 2), tasks: [{ ...webJob(secrets, 2).tasks[0], image, update: { max_parallel: 1, min_healthy_time: "1s", auto_revert: true } }] });
    await h.call("POST", "/v1/jobs", revertable([{ name: "db_password" }], "img"));
    h.manager.reconcileNow();
    for (const task of (await h.jobDetail("web")).tasks) await h.manager.reportTasks(node, [{ taskId: task.id, state: "running", message: "started" }]);
    // Version 2 no longer names the secret, so it may be removed; then version 2's first task fails.
    await h.call("POST", "/v1/jobs", revertable([], "img:2"));
    expect((await h.call("DELETE", "/v1/secrets/db_password")).status).toBe(200);
    h.manager.reconcileNow();
    const fresh = (await h.jobDetail("web")).tasks.find((t) => t.jobVersion === 2) as NonNullable<Awaited<ReturnType<typeof h.jobDetail>>["tasks"][0]>;
    await h.manager.reportTasks(node, [{ taskId: fresh.id, state: "failed", message: "exit code 1", exitCode: 1 }]);
    h.manager.reconcileNow();
    const kept = await versions("web");
    expect(kept.map((v) => v.version)).toEqual([2, 1]);
    expect(kept[0]?.rolloutFailure).toContain("failed");
    const events = (await (await h.call("GET", "/v1/events/history?job=web")).json()) as { events: ClusterEvent[] };
    expect(events.events.map((e) => e.message)).toContainEqual(expect.stringContaining("not reverted to version 1: the secret values it ran with are no longer kept (db_password)"));
  });

  test("a worker gets the secrets of tasks assigned to its own node only", async () => {
    const a = await h.register("a");
    const b = await h.register("b");
    await put("db_password", PASSWORD);
    h.manager.setNodeEligibility(b, false);
    await h.call("POST", "/v1/jobs", webJob());
    h.manager.reconcileNow();
    const task = (await h.jobDetail("web")).tasks[0]?.id as string;

    const own = await fetchSecrets(a, task);
    expect(own.status).toBe(200);
    expect(own.headers.get("cache-control")).toBe("no-store");
    expect(decode(((await own.json()) as { secrets: TaskSecret[] }).secrets)).toEqual({ db_password: PASSWORD });
    // b's credential on its own path, asking for a's task: refused by the manager.
    const foreign = await fetchSecrets(b, task);
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).not.toContain(PASSWORD);
    // b's credential on a's path: refused before anything is read.
    const res = await h.app.request(`/v1/nodes/${a}/tasks/${task}/secrets`, { headers: { authorization: `Bearer ${h.auth.credential(b)}` } });
    expect(res.status).toBe(403);
    // A user's token, even an admin's, never gets a value.
    const admin = await h.app.request(`/v1/nodes/${a}/tasks/${task}/secrets`, { headers: { authorization: `Bearer ${h.auth.admin}` } });
    expect(admin.status).toBe(403);
    // Once the task is to stop, nobody gets its secrets.
    await h.call("POST", `/v1/tasks/${task}/stop`);
    expect((await fetchSecrets(a, task)).status).toBe(409);
  });

  test("the value is in no answer of the API: jobs, versions, tasks, assignments, events, secrets, the snapshot", async () => {
    const node = await h.register("n1");
    await put("db_password", PASSWORD);
    await h.call("POST", "/v1/jobs", webJob([{ name: "db_password", env: "DB_PASSWORD" }]));
    h.manager.reconcileNow();
    await put("db_password", NEW_PASSWORD);
    h.manager.reconcileNow();
    const task = (await h.jobDetail("web")).tasks[0]?.id as string;
    const answers: string[] = [];
    for (const path of ["/v1/jobs", "/v1/jobs/web", "/v1/jobs/web/versions", "/v1/tasks", `/v1/tasks/${task}`, "/v1/events/history", "/v1/secrets", "/v1/secrets/db_password", "/v1/snapshot", "/v1/nodes"]) {
      const res = await h.call("GET", path);
      expect(`${path}: ${res.status}`).toBe(`${path}: 200`);
      answers.push(await res.text());
    }
    const assignments = (await (await h.call("GET", `/v1/nodes/${node}/assignments?index=&wait=0s`)).json()) as AssignmentsResponse;
    answers.push(JSON.stringify(assignments));
    expect(assignments.assignments.length).toBeGreaterThan(0);
    for (const value of [PASSWORD, NEW_PASSWORD]) {
      for (const text of answers) {
        expect(text).not.toContain(value);
        expect(text).not.toContain(Buffer.from(value).toString("base64"));
      }
    }
  });

  test("a secret made again after it was removed goes on from the versions stored jobs name", async () => {
    await put("db_password", PASSWORD);
    await put("db_password", NEW_PASSWORD);
    await h.call("POST", "/v1/jobs", webJob());
    await h.call("DELETE", "/v1/jobs/web");
    expect((await h.call("DELETE", "/v1/secrets/db_password")).status).toBe(200);
    expect((await put("db_password", "a third value")).body).toMatchObject({ created: true, secret: { version: 3 } });
  });

  test("puts racing for one secret each get a version of their own", async () => {
    await put("db_password", PASSWORD);
    const results = await Promise.all(["a-value", "b-value", "c-value"].map((v) => put("db_password", v)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.map((r) => r.body.secret.version).sort()).toEqual([2, 3, 4]);
  });
});

describe("the keyring", () => {
  test("rotation seals every kept version under a new data key, drops the old one, and every value still opens", async () => {
    const node = await h.register("n1");
    await put("db_password", PASSWORD);
    await put("api_key", "sk-live-123456");
    await h.call("POST", "/v1/jobs", webJob([{ name: "db_password" }, { name: "api_key" }]));
    await put("db_password", NEW_PASSWORD);
    h.manager.reconcileNow();
    const before = h.store.getKeyring();
    const res = await h.call("POST", "/v1/keyring/rotate");
    expect(res.status).toBe(200);
    const rotation = (await res.json()) as KeyringRotation;
    // db_password keeps versions 1 and 2 (job version 1 still names 1), api_key its one version.
    expect(rotation.resealed).toBe(3);
    expect(rotation.activeKey).not.toBe(before?.active);
    const after = h.store.getKeyring();
    expect(after?.keys.map((k) => k.id)).toEqual([rotation.activeKey]);
    expect(h.store.listSecrets().flatMap((s) => s.versions.map((v) => v.sealed.keyId))).toEqual([rotation.activeKey, rotation.activeKey, rotation.activeKey]);

    const task = (await h.jobDetail("web")).tasks.find((t) => t.jobVersion === 2)?.id as string;
    expect(decode(((await (await fetchSecrets(node, task)).json()) as { secrets: TaskSecret[] }).secrets)).toEqual({ db_password: NEW_PASSWORD, api_key: "sk-live-123456" });
  });

  test("a snapshot's secrets are restored only where the key-encryption key that sealed them is", async () => {
    await put("db_password", PASSWORD);
    const snapshot = await (await h.call("GET", "/v1/snapshot")).text();
    const elsewhere = new ApiHarness();
    const refused = await elsewhere.call("POST", "/v1/snapshot", snapshot, "application/x-ndjson");
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("sealed under another key-encryption key than this manager's");
    expect(elsewhere.store.listSecrets()).toEqual([]);
    await put("db_password", NEW_PASSWORD);
    const restored = await h.call("POST", "/v1/snapshot", snapshot, "application/x-ndjson");
    expect(((await restored.json()) as { restored: Record<string, number> }).restored).toMatchObject({ secrets: 1, keyring: 1 });
    // Back to version 1, and its value opens: putting it again changes nothing.
    expect((await put("db_password", PASSWORD)).body).toMatchObject({ changed: false, secret: { version: 1 } });
  });

  test("a value copied into another secret's place does not decrypt", async () => {
    const node = await h.register("n1");
    await put("db_password", PASSWORD);
    await put("other", "something else entirely");
    await h.call("POST", "/v1/jobs", webJob([{ name: "other" }]));
    h.manager.reconcileNow();
    const task = (await h.jobDetail("web")).tasks[0]?.id as string;
    const stolen = h.store.getSecret("db_password")?.versions[0]?.sealed;
    const other = h.store.getSecret("other");
    if (!stolen || !other) throw new Error("both secrets should be stored");
    h.store.putSecret({ ...other, versions: [{ ...(other.versions[0] as NonNullable<(typeof other.versions)[0]>), sealed: stolen }] });
    const res = await fetchSecrets(node, task);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain(PASSWORD);
  });
});
