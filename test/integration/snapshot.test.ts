import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Hono } from "hono";
import { createManagerApp } from "../../src/api/manager-app.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { Manager } from "../../src/manager/manager.ts";
import { EtcdGateway } from "../../src/store/etcd/etcd-gateway.ts";
import { ROOT } from "../../src/store/etcd/etcd-keys.ts";
import { EtcdStore } from "../../src/store/etcd/etcd-store.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { type EtcdCluster, requireEtcd, startEtcdCluster } from "../support/etcd-cluster.ts";

/**
 * `GET /v1/snapshot` then `POST /v1/snapshot` into a wiped store (SQLite → SQLite, SQLite → etcd) gives
 * back the same jobs, versions, tasks and tokens; a file that is not a snapshot is refused and changes nothing.
 */
const log = createLogger("snapshot-test", "error");
let etcd: EtcdCluster;
const stores: Store[] = [];

beforeAll(async () => {
  requireEtcd();
  etcd = await startEtcdCluster({ members: 3 });
}, 30_000);
afterAll(async () => {
  for (const store of stores) store.close();
  await etcd?.stop();
});

interface Side {
  manager: Manager;
  app: Hono;
  admin: string;
}

/** A manager and its API on the store; `admin`: it makes an admin token of its own to call with. */
function side(store: Store, admin = true): Side {
  stores.push(store);
  const manager = new Manager({ store, log });
  return { manager, app: createManagerApp({ manager, log, version: "test" }), admin: admin ? manager.tokens.create("admin", "test").secret : "" };
}

const call = async (s: Side, method: string, path: string, body?: unknown, token = s.admin) => {
  const res = await s.app.request(path, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
};

/** Everything the API shows of jobs, versions, tasks and tokens, read with `token`. */
async function contents(s: Side, token: string) {
  const json = async (path: string) => JSON.parse((await call(s, "GET", path, undefined, token)).text);
  const jobs = (await json("/v1/jobs")).jobs as { name: string }[];
  return {
    jobs,
    versions: await Promise.all(jobs.map((j) => json(`/v1/jobs/${j.name}/versions`))),
    tasks: (await json("/v1/tasks")).tasks,
    tokens: (await json("/v1/tokens")).tokens,
  };
}

async function filledSqlite(): Promise<Side> {
  const s = side(openStore(":memory:"));
  const job = (count: number) => ({ name: "web", tasks: [{ name: "main", image: "cube-test/busybox:latest", count, resources: { cpu: 0.1, memory: 8 } }] });
  const register = await call(s, "POST", "/v1/nodes/register", { name: "n1", address: "http://127.0.0.1:1", datacenter: "dc1", labels: {}, capacity: { cpu: 2, memory: 1024, disk: 1000 }, version: "test" }, s.manager.tokens.create("join", "j").secret);
  expect(register.status).toBe(200);
  expect((await call(s, "POST", "/v1/jobs", job(2))).status).toBe(201);
  s.manager.reconcileNow();
  expect((await call(s, "POST", "/v1/jobs", job(3))).status).toBe(200);
  expect((await call(s, "POST", "/v1/jobs", { ...job(1), name: "api" })).status).toBe(201);
  s.manager.reconcileNow();
  expect((await call(s, "POST", "/v1/tokens", { role: "read", name: "dashboard" })).status).toBe(201);
  return s;
}

test("a SQLite snapshot restored into a wiped SQLite store, and into an empty etcd (how a cluster moves to HA), gives back the same state", async () => {
  const from = await filledSqlite();
  const saved = await call(from, "GET", "/v1/snapshot");
  expect(saved.status).toBe(200);
  expect(JSON.parse(saved.text.split("\n")[0] as string)).toMatchObject({ format: "cube-snapshot", version: 1, store: "sqlite" });
  const before = await contents(from, from.admin);
  expect(before.tasks).toHaveLength(4);

  await new EtcdGateway(etcd.endpoints).txn([], [{ delete: { key: ROOT, prefix: true } }]);
  const targets = [side(openStore(":memory:")), side(await EtcdStore.open({ endpoints: etcd.endpoints, managerName: "m", log }))];
  for (const to of targets) {
    const restored = await call(to, "POST", "/v1/snapshot", saved.text);
    expect(restored.status).toBe(200);
    expect(JSON.parse(restored.text).restored).toEqual({ jobs: 2, tasks: 4, nodes: 1, tokens: 4 });
    // The target's own admin token is gone with the rest: the snapshot's tokens are the tokens now.
    expect((await call(to, "GET", "/v1/jobs")).status).toBe(401);
    expect(await contents(to, from.admin)).toEqual(before);
  }
  // What the etcd side restored is in etcd, not only in that manager's memory.
  const again = side(await EtcdStore.open({ endpoints: etcd.endpoints, managerName: "m2", log }), false);
  expect(await contents(again, from.admin)).toEqual(before);
});

test("a file that is not a snapshot is refused with a 400 that says so, and nothing changes", async () => {
  const s = await filledSqlite();
  const before = await contents(s, s.admin);
  for (const body of ["hello", '{"jobs":[]}', `{"format":"cube-snapshot","version":1}\n{"kind":"job"}`, `{"format":"cube-snapshot","version":9}`]) {
    const refused = await call(s, "POST", "/v1/snapshot", body);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text).error.message).toMatch(/snapshot.*nothing was changed/);
  }
  expect(await contents(s, s.admin)).toEqual(before);
});
