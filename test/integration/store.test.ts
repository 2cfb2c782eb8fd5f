import { Database } from "bun:sqlite";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Job, JobSpec, TaskSpec } from "../../src/model/job.ts";
import type { Node } from "../../src/model/node.ts";
import type { StoredKeyring, StoredSecret } from "../../src/model/secret.ts";
import type { Task } from "../../src/model/task.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { EtcdGateway } from "../../src/store/etcd/etcd-gateway.ts";
import { ROOT } from "../../src/store/etcd/etcd-keys.ts";
import { EtcdStore } from "../../src/store/etcd/etcd-store.ts";
import { AmbiguousIdError, openStore, type Store } from "../../src/store/index.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { snapshotLines } from "../../src/store/snapshot.ts";
import { type EtcdCluster, requireEtcd, startEtcdCluster } from "../support/etcd-cluster.ts";
import { waitFor } from "../support/wait-for.ts";
import { makeJobSpec, makeTask, makeTaskSpec } from "../unit/fixtures.ts";

function taskSpec(overrides: Partial<TaskSpec> = {}): TaskSpec {
  return makeTaskSpec({
    command: ["httpd", "-f", "-p", "8080"],
    count: 2,
    env: { GREETING: "hello" },
    resources: { cpu: 0.1, memory: 64, disk: 10 },
    ports: [{ name: "http", container: 8080 }],
    restart: { attempts: 3, intervalMs: 300_000, delayMs: 1000, mode: "fail" },
    ...overrides,
  });
}

function jobSpec(overrides: Partial<JobSpec> = {}): JobSpec {
  return makeJobSpec("web", [taskSpec()], { datacenters: ["dc1"], ...overrides });
}

let taskSeq = 0;
/** Ids that sort in creation order and share prefixes, for the prefix lookups. */
function task(overrides: Partial<Task> = {}): Task {
  taskSeq += 1;
  return makeTask({
    id: `t${String(taskSeq).padStart(4, "0")}-0000-0000`,
    nodeId: null,
    state: "pending",
    resources: { cpu: 0.1, memory: 64, disk: 10 },
    createdAt: 1000,
    updatedAt: 1000,
    ...overrides,
  });
}

function secret(name: string, versions: number[]): StoredSecret {
  const at = (v: number) => 1000 * v;
  return {
    name,
    version: Math.max(...versions),
    createdAt: at(versions[0] ?? 1),
    updatedAt: at(Math.max(...versions)),
    versions: versions.map((v) => ({ version: v, createdAt: at(v), sealed: { keyId: "k1", iv: `iv-${name}-${v}`, data: `sealed-${name}-${v}` } })),
  };
}

const keyring = (keys: string[]): StoredKeyring => ({
  seal: { kind: "passphrase", salt: "c2FsdA==", iterations: 600_000 },
  active: keys.at(-1) ?? "",
  keys: keys.map((id, i) => ({ id, createdAt: i, iv: `iv-${id}`, data: `wrapped-${id}` })),
});

function node(overrides: Partial<Node> = {}): Node {
  return {
    id: "node-1",
    name: "alpha",
    address: "http://127.0.0.1:7601",
    datacenter: "dc1",
    labels: { disk: "ssd" },
    capacity: { cpu: 4, memory: 8192, disk: 100_000 },
    stats: null,
    status: "ready",
    eligible: true,
    lastHeartbeat: 5000,
    registeredAt: 4000,
    version: "0.1.0",
    ...overrides,
  };
}

describe("opening", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "cube-store-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("a file database uses WAL and enforces foreign keys", () => {
    const path = join(dir, "cube.db");
    openStore(path).close();
    const db = new Database(path);
    expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
    db.close();

    const store = openStore(path);
    expect(() => store.insertTask(task({ job: "no-such-job" }))).toThrow();
    store.close();
  });

  test("opening twice applies each migration once", () => {
    const path = join(dir, "cube.db");
    openStore(path).close();
    openStore(path).close();
    const db = new Database(path);
    expect(db.query<{ version: number }, []>("SELECT version FROM schema_migrations ORDER BY version").all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    db.close();
  });

  test("a database from a newer Cube is refused, naming the path", () => {
    const path = join(dir, "cube.db");
    openStore(path).close();
    const db = new Database(path);
    db.run("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)");
    db.close();
    expect(() => openStore(path)).toThrow(path);
    expect(() => openStore(path)).toThrow(/newer/);
  });

  test("the write-ahead log is copied into the database by a thread of its own, never by a commit", async () => {
    const path = join(dir, "cube.db");
    const store = openStore(path);
    store.putJob(jobSpec(), 1000);
    const size = Bun.file(path).size;
    // Far more than the 1,000 pages at which a commit would checkpoint by itself.
    for (let i = 0; i < 3_000; i++) store.transaction(() => store.insertTask(task({ message: "x".repeat(2_000) })));
    expect(Bun.file(path).size).toBe(size);
    const grown = await waitFor("the database file to take the log's pages", () => (Bun.file(path).size > size + 4_000_000 ? Bun.file(path).size : undefined), 10_000, 50);
    expect(grown).toBeGreaterThan(size);
    store.close();
  }, 30_000);

  test("data persists across close and reopen", () => {
    const path = join(dir, "cube.db");
    const first = openStore(path);
    first.putJob(jobSpec(), 1000);
    const t = task({ state: "running", nodeId: "node-1" });
    first.insertTask(t);
    first.addTaskEvent(t.id, 1100, "running", "started");
    first.upsertNode(node());
    first.close();

    const second = openStore(path);
    expect(second.getJob("web")?.spec).toEqual(jobSpec());
    expect(second.getTask(t.id)).toEqual(t);
    expect(second.listTaskEvents(t.id).map((e) => e.message)).toEqual(["started"]);
    expect(second.getNode("node-1")).toEqual(node());
    second.close();
  });
});

test("the schema 8 migration moves each task's newest 20 events into its row, ids and order kept, and drops task_events", () => {
  const dir = mkdtempSync(join(tmpdir(), "cube-store-"));
  try {
    const path = join(dir, "cube.db");
    const store = openStore(path);
    store.putJob(jobSpec(), 1000);
    const [busy, quiet, silent] = [task(), task(), task()];
    for (const t of [busy, quiet, silent]) store.insertTask(t);
    store.close();
    // Back to schema 7: events in a table of their own (ids interleaved between the tasks).
    const db = new Database(path);
    db.run("ALTER TABLE tasks DROP COLUMN events");
    db.run("CREATE TABLE task_events (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE, at INTEGER NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL)");
    db.run("CREATE INDEX task_events_task ON task_events(task_id)");
    db.run("DELETE FROM schema_migrations WHERE version = 8");
    const add = db.prepare("INSERT INTO task_events (task_id, at, state, message) VALUES (?, ?, 'running', ?)");
    for (let i = 1; i <= 25; i++) {
      add.run(busy.id, 1000 + i, `busy ${i}`);
      if (i === 3) add.run(quiet.id, 2000, "quiet");
    }
    db.close();

    const migrated = openStore(path);
    const events = migrated.listTaskEvents(busy.id);
    expect(events.map((e) => e.message)).toEqual(Array.from({ length: 20 }, (_, i) => `busy ${i + 6}`));
    expect(events.map((e) => e.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 7));
    expect(events[0]).toEqual({ id: 7, taskId: busy.id, at: 1006, state: "running", message: "busy 6" });
    expect(migrated.listTaskEvents(quiet.id)).toEqual([{ id: 4, taskId: quiet.id, at: 2000, state: "running", message: "quiet" }]);
    expect(migrated.listTaskEvents(silent.id)).toEqual([]);
    // Numbering goes on from the task's newest.
    expect(migrated.addTaskEvent(busy.id, 3000, "failed", "exit 1").id).toBe(27);
    migrated.close();
    const check = new Database(path);
    expect(check.query("SELECT name FROM sqlite_master WHERE name LIKE 'task_events%'").all()).toEqual([]);
    check.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * One backend of the Store interface: `open` gives an empty store; `reopen` another handle on what the
 * first one stored (SQLite: the file opened again; etcd: a second manager's store loaded from etcd).
 */
interface Backend {
  name: string;
  setUp(): Promise<void>;
  open(): Promise<Store>;
  reopen(): Promise<Store>;
  tearDown(): Promise<void>;
}

/** Everything a store holds, as a snapshot's records (the header, with its time and store kind, left out). */
const contents = (store: Store) => [...snapshotLines(store, 0)].slice(1);

function sqliteBackend(): Backend {
  let dir = "";
  let opened = 0;
  // A file per test: a closed store's checkpointer thread may still be finishing with the last one.
  const path = () => join(dir, `cube-${opened}.db`);
  return {
    name: "sqlite",
    async setUp() {
      dir = mkdtempSync(join(tmpdir(), "cube-store-"));
    },
    async open() {
      opened++;
      return openStore(path());
    },
    async reopen() {
      return openStore(path());
    },
    async tearDown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function etcdBackend(): Backend {
  let etcd: EtcdCluster | undefined;
  const log = createLogger("store-test", "error");
  const open = (name: string) => EtcdStore.open({ endpoints: etcd?.endpoints ?? [], managerName: name, log });
  return {
    name: "etcd",
    async setUp() {
      requireEtcd();
      etcd = await startEtcdCluster({ members: 3 });
    },
    async open() {
      await new EtcdGateway(etcd?.endpoints ?? []).txn([], [{ delete: { key: ROOT, prefix: true } }]);
      return open("first");
    },
    reopen: () => open("second"),
    async tearDown() {
      await etcd?.stop();
    },
  };
}

for (const backend of [sqliteBackend(), etcdBackend()]) {
  describe(`store (${backend.name})`, () => {
    let store: Store;
    beforeAll(() => backend.setUp(), 30_000);
    afterAll(() => backend.tearDown());
    beforeEach(async () => {
      store = await backend.open();
    });
    // Whatever a test wrote must be what another handle on the same backend reads back: stored, not just remembered.
    afterEach(async () => {
      await store.durable();
      const again = await backend.reopen();
      try {
        expect(contents(again)).toEqual(contents(store));
      } finally {
        again.close();
        store.close();
      }
    });

    describe("jobs", () => {
      test("the first submit creates version 1, running", () => {
        const result = store.putJob(jobSpec(), 1000);
        expect(result).toEqual({ job: { spec: jobSpec(), version: 1, status: "running", createdAt: 1000, updatedAt: 1000 }, created: true, changed: true });
        expect(store.getJob("web")).toEqual(result.job);
      });

      test("the same spec, even with keys in another order, leaves version 1 untouched", () => {
        store.putJob(jobSpec(), 1000);
        const { tasks, ...rest } = jobSpec();
        const reordered = { tasks, ...rest } as JobSpec;
        const result = store.putJob(reordered, 2000);
        expect(result.created).toBe(false);
        expect(result.changed).toBe(false);
        expect(result.job.version).toBe(1);
        expect(store.getJob("web")?.updatedAt).toBe(1000);
        expect(result.job).toEqual(store.getJob("web") as Job);
        expect(store.listJobVersions("web")).toHaveLength(1);
      });

      test("a changed spec becomes version 2; versions list newest first", () => {
        store.putJob(jobSpec(), 1000);
        const changedSpec = jobSpec({ tasks: [taskSpec({ count: 5 })] });
        const result = store.putJob(changedSpec, 2000);
        expect(result).toMatchObject({ created: false, changed: true, job: { version: 2, createdAt: 1000, updatedAt: 2000 } });
        expect(store.getJob("web")?.spec).toEqual(changedSpec);
        expect(store.listJobVersions("web")).toEqual([
          { version: 2, spec: changedSpec, createdAt: 2000, rolloutFailure: null, autoRevert: false },
          { version: 1, spec: jobSpec(), createdAt: 1000, rolloutFailure: null, autoRevert: false },
        ]);
      });

      test("a stopped job submitted again runs, with a new version only if its spec differs", () => {
        store.putJob(jobSpec(), 1000);
        store.setJobStatus("web", "stopped", 1500);
        expect(store.getJob("web")?.status).toBe("stopped");

        const same = store.putJob(jobSpec(), 2000);
        expect(same).toMatchObject({ changed: false, job: { version: 1, status: "running", updatedAt: 2000 } });
        expect(store.getJob("web")).toMatchObject({ version: 1, status: "running", updatedAt: 2000 });

        store.setJobStatus("web", "stopped", 2500);
        const different = store.putJob(jobSpec({ datacenters: [] }), 3000);
        expect(different).toMatchObject({ changed: true, job: { version: 2, status: "running" } });
      });

      test("why the manager made a version itself is kept with it", () => {
        store.putJob(jobSpec(), 1000);
        store.putJob(jobSpec({ datacenters: [] }), 2000, { reason: "secret db changed to version 2" });
        expect(store.listJobVersions("web").map((v) => [v.version, v.reason])).toEqual([
          [2, "secret db changed to version 2"],
          [1, undefined],
        ]);
      });

      test("setJobStatus on an unknown job throws", () => {
        expect(() => store.setJobStatus("ghost", "stopped", 1000)).toThrow("ghost");
      });

      test("listJobs is ordered by name", () => {
        for (const name of ["zeta", "alpha", "mid"]) store.putJob(jobSpec({ name }), 1000);
        expect(store.listJobs().map((j) => j.spec.name)).toEqual(["alpha", "mid", "zeta"]);
      });

      test("deleteJob removes versions, tasks and their events", () => {
        store.putJob(jobSpec(), 1000);
        store.putJob(jobSpec({ datacenters: [] }), 2000);
        store.putJob(jobSpec({ name: "other" }), 1000);
        const gone = task();
        const kept = task({ job: "other" });
        store.insertTask(gone);
        store.insertTask(kept);
        store.addTaskEvent(gone.id, 1100, "pending", "created");
        store.addTaskEvent(kept.id, 1100, "pending", "created");

        store.deleteJob("web");

        expect(store.getJob("web")).toBeNull();
        expect(store.listJobVersions("web")).toEqual([]);
        expect(store.getTask(gone.id)).toBeNull();
        expect(store.listTaskEvents(gone.id)).toEqual([]);
        expect(store.getTask(kept.id)).toEqual(kept);
        expect(store.listTaskEvents(kept.id)).toHaveLength(1);
      });
    });

    describe("tasks", () => {
      beforeEach(() => {
        store.putJob(jobSpec(), 1000);
        store.putJob(jobSpec({ name: "api" }), 1000);
      });

      test("every field round-trips, JSON fields and nulls included", () => {
        const full = task({
          jobVersion: 3,
          group: "worker",
          index: 2,
          nodeId: "node-1",
          desired: "stopped",
          state: "failed",
          resources: { cpu: 0.25, memory: 128, disk: 20 },
          reservedPorts: { http: 8080 },
          hostPorts: { http: 8080, admin: 32768 },
          containerId: "abc123",
          exitCode: 137,
          message: "killed",
          restarts: 2,
          createdAt: 1000,
          updatedAt: 2000,
          startedAt: 1500,
          finishedAt: 1900,
        });
        const empty = task();
        store.insertTask(full);
        store.insertTask(empty);
        expect(store.getTask(full.id)).toEqual(full);
        expect(store.getTask(empty.id)).toEqual(empty);
        expect(store.getTask("missing")).toBeNull();
      });

      test("updateTask writes every field and refuses an unknown id", () => {
        const t = task();
        store.insertTask(t);
        const updated: Task = { ...t, nodeId: "node-2", state: "running", hostPorts: { http: 40000 }, containerId: "c1", startedAt: 1200, updatedAt: 1200 };
        store.updateTask(updated);
        expect(store.getTask(t.id)).toEqual(updated);

        const back: Task = { ...updated, nodeId: null, containerId: null, startedAt: null };
        store.updateTask(back);
        expect(store.getTask(t.id)).toEqual(back);

        expect(() => store.updateTask(task())).toThrow("does not exist");
      });

      test("listTasks filters by job, node, state (one or several) and desired, in job/group/index order", () => {
        const a2 = task({ job: "web", index: 2, nodeId: "n1", state: "running" });
        const a0 = task({ job: "web", index: 0, nodeId: "n2", state: "pending" });
        const a1 = task({ job: "web", index: 1, nodeId: "n1", state: "failed", desired: "stopped" });
        const b0 = task({ job: "api", index: 0, nodeId: "n1", state: "running" });
        for (const t of [a2, a0, a1, b0]) store.insertTask(t);
        const ids = (filter?: Parameters<Store["listTasks"]>[0]) => store.listTasks(filter).map((t) => t.id);

        expect(ids()).toEqual([b0.id, a0.id, a1.id, a2.id]);
        expect(ids({ job: "web" })).toEqual([a0.id, a1.id, a2.id]);
        expect(ids({ nodeId: "n1" })).toEqual([b0.id, a1.id, a2.id]);
        expect(ids({ state: "running" })).toEqual([b0.id, a2.id]);
        expect(ids({ state: ["pending", "failed"] })).toEqual([a0.id, a1.id]);
        expect(ids({ state: [] })).toEqual([]);
        expect(ids({ desired: "stopped" })).toEqual([a1.id]);
        expect(ids({ job: "web", nodeId: "n1", state: ["running", "failed"], desired: "running" })).toEqual([a2.id]);
      });

      test("tasks of one slot are ordered by creation", () => {
        const later = task({ createdAt: 2000 });
        const earlier = task({ createdAt: 1000 });
        store.insertTask(later);
        store.insertTask(earlier);
        expect(store.listTasks({ job: "web" }).map((t) => t.id)).toEqual([earlier.id, later.id]);
      });

      test("findTaskByPrefix: unique, ambiguous, none, case-sensitive, wildcards literal", () => {
        for (const id of ["abc-1", "abd-1", "abd-2", "x*y"]) store.insertTask(task({ id }));

        expect(store.findTaskByPrefix("abc")?.id).toBe("abc-1");
        expect(store.findTaskByPrefix("zzz")).toBeNull();
        expect(store.findTaskByPrefix("ABC")).toBeNull();
        expect(store.findTaskByPrefix("x*")?.id).toBe("x*y");
        expect(store.findTaskByPrefix("a?d")).toBeNull();

        let err: unknown;
        try {
          store.findTaskByPrefix("abd");
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(AmbiguousIdError);
        expect((err as Error).message).toContain("abd-1");
        expect((err as Error).message).toContain("abd-2");
      });

      test("an ambiguous prefix lists at most 5 matches", () => {
        for (let i = 0; i < 7; i++) store.insertTask(task({ id: `same-${i}` }));
        try {
          store.findTaskByPrefix("same");
          throw new Error("expected AmbiguousIdError");
        } catch (e) {
          expect(e).toBeInstanceOf(AmbiguousIdError);
          expect((e as AmbiguousIdError).details).toEqual({ matches: ["same-0", "same-1", "same-2", "same-3", "same-4"] });
        }
      });

      test("events come back oldest first, with their ids", () => {
        const t = task();
        store.insertTask(t);
        const first = store.addTaskEvent(t.id, 1000, "pending", "created");
        const second = store.addTaskEvent(t.id, 1000, "scheduled", "placed on alpha");
        const third = store.addTaskEvent(t.id, 1200, "running", "started");
        expect(store.listTaskEvents(t.id)).toEqual([first, second, third]);
        expect(second).toEqual({ id: second.id, taskId: t.id, at: 1000, state: "scheduled", message: "placed on alpha" });
        expect(second.id).toBeGreaterThan(first.id);
      });

      test("a task keeps its newest 20 events, numbered on", () => {
        const t = task();
        store.insertTask(t);
        const added = Array.from({ length: 25 }, (_, i) => store.addTaskEvent(t.id, 1000 + i, "running", `check ${i}`));
        expect(store.listTaskEvents(t.id)).toEqual(added.slice(5));
        expect(added.map((e) => e.id)).toEqual(Array.from({ length: 25 }, (_, i) => (added[0]?.id as number) + i));
      });

      test("an event for an unknown task is refused", () => {
        expect(() => store.addTaskEvent("missing", 1000, "pending", "created")).toThrow();
      });
    });

    describe("transactions", () => {
      test("a throwing transaction rolls back everything written inside it", () => {
        store.putJob(jobSpec(), 1000);
        const existing = task();
        store.insertTask(existing);

        expect(() =>
          store.transaction(() => {
            store.putJob(jobSpec({ name: "api" }), 2000);
            store.putJob(jobSpec({ datacenters: [] }), 2000);
            store.insertTask(task());
            store.updateTask({ ...existing, state: "scheduled" });
            store.addTaskEvent(existing.id, 2000, "scheduled", "placed");
            store.upsertNode(node());
            throw new Error("boom");
          }),
        ).toThrow("boom");

        expect(store.listJobs().map((j) => j.spec.name)).toEqual(["web"]);
        expect(store.getJob("web")?.version).toBe(1);
        expect(store.listTasks()).toEqual([existing]);
        expect(store.listTaskEvents(existing.id)).toEqual([]);
        expect(store.listNodes()).toEqual([]);
      });

      test("a nested transaction joins the outer one and returns its value", () => {
        const result = store.transaction(() => {
          store.putJob(jobSpec(), 1000);
          return store.transaction(() => store.getJob("web")?.version);
        });
        expect(result).toBe(1);
        expect(() =>
          store.transaction(() => {
            store.transaction(() => store.putJob(jobSpec({ name: "api" }), 1000));
            throw new Error("outer fails");
          }),
        ).toThrow("outer fails");
        expect(store.getJob("api")).toBeNull();
      });
    });

    describe("secrets and the keyring", () => {
      test("secrets round-trip by name, listed in name order; a put replaces the whole record; a delete forgets it", () => {
        store.putSecret(secret("zeta", [1]));
        store.putSecret(secret("alpha", [1, 2]));
        expect(store.getSecret("alpha")).toEqual(secret("alpha", [1, 2]));
        expect(store.listSecrets().map((s) => s.name)).toEqual(["alpha", "zeta"]);
        store.putSecret(secret("alpha", [2, 3]));
        expect(store.getSecret("alpha")?.versions.map((v) => v.version)).toEqual([2, 3]);
        store.deleteSecret("zeta");
        store.deleteSecret("never-there");
        expect(store.getSecret("zeta")).toBeNull();
        expect(store.listSecrets().map((s) => s.name)).toEqual(["alpha"]);
      });

      test("one keyring, none until it is first put, replaced whole", () => {
        expect(store.getKeyring()).toBeNull();
        store.putKeyring(keyring(["k1"]));
        store.putKeyring(keyring(["k1", "k2"]));
        expect(store.getKeyring()).toEqual(keyring(["k1", "k2"]));
      });

      test("a secret and the keyring written in a transaction that throws are not stored", () => {
        store.putSecret(secret("kept", [1]));
        expect(() =>
          store.transaction(() => {
            store.putKeyring(keyring(["k1"]));
            store.putSecret(secret("kept", [1, 2]));
            store.putSecret(secret("new", [1]));
            store.deleteSecret("kept");
            throw new Error("boom");
          }),
        ).toThrow("boom");
        expect(store.getKeyring()).toBeNull();
        expect(store.listSecrets()).toEqual([secret("kept", [1])]);
      });
    });

    describe("nodes", () => {
      test("round-trip with stats, labels and eligibility; upsert replaces by id", () => {
        const n = node({ stats: { cpuPercent: 12.5, memoryUsedMb: 512, diskUsedMb: 2048, at: 5000 }, eligible: false, status: "draining" });
        store.upsertNode(n);
        expect(store.getNode(n.id)).toEqual(n);
        expect(store.getNodeByName("alpha")).toEqual(n);

        const updated = node({ name: "alpha-renamed", stats: null, eligible: true, status: "down", labels: {}, lastHeartbeat: 9000 });
        store.upsertNode(updated);
        expect(store.getNode(n.id)).toEqual(updated);
        expect(store.getNodeByName("alpha")).toBeNull();
        expect(store.getNode("missing")).toBeNull();
      });

      test("listNodes is ordered by name; names are unique", () => {
        store.upsertNode(node({ id: "n1", name: "gamma" }));
        store.upsertNode(node({ id: "n2", name: "beta" }));
        expect(store.listNodes().map((n) => n.name)).toEqual(["beta", "gamma"]);
        expect(() => store.upsertNode(node({ id: "n3", name: "beta" }))).toThrow();
      });
    });
  });
}
