import { afterEach, describe, expect, test } from "bun:test";
import { ConflictError, StoreReloadingError, UnavailableError } from "../../src/lib/errors.ts";
import { createLogger } from "../../src/lib/logger.ts";
import type { JobSpec } from "../../src/model/job.ts";
import type { Task } from "../../src/model/task.ts";
import { EtcdGateway } from "../../src/store/etcd/etcd-gateway.ts";
import { LEADER_KEY } from "../../src/store/etcd/etcd-keys.ts";
import { EtcdStore } from "../../src/store/etcd/etcd-store.ts";
import type { MirrorChanges, SharedEvent } from "../../src/store/shared-store.ts";
import { etcdPerFile } from "../support/etcd-cluster.ts";
import { waitFor } from "../support/wait-for.ts";

const log = createLogger("etcd-store-test", "error");
const spec: JobSpec = { name: "web", type: "service", datacenters: [], constraints: [], tasks: [] };

function task(id: string): Task {
  return {
    id, job: "web", jobVersion: 1, group: "main", index: 0, nodeId: "n1", desired: "running", state: "scheduled", resources: { cpu: 0.1, memory: 8, disk: 0 },
    reservedPorts: {}, hostPorts: {}, containerId: null, exitCode: null, message: "", restarts: 0, createdAt: 1, updatedAt: 1, startedAt: null, finishedAt: null, health: null, nextAttemptAt: null,
  };
}

const cluster = etcdPerFile();
const opened: EtcdStore[] = [];
const open = async (name: string, leaderTtlSeconds = 2) => {
  const store = await EtcdStore.open({ endpoints: cluster().endpoints, managerName: name, log, leaderTtlSeconds, timeoutMs: 1_000 });
  opened.push(store);
  return store;
};

afterEach(async () => {
  for (const store of opened.splice(0)) await store.shutdown();
});

describe("the etcd store shared by managers", () => {
  test("what one manager stores reaches another through its watch, with the events stored alongside", async () => {
    const a = await open("a");
    const b = await open("b");
    const seen: { changes: MirrorChanges; events: SharedEvent[] }[] = [];
    b.follow({ changed: (changes, events) => seen.push({ changes, events }), reloaded: () => undefined });
    a.transaction(() => {
      a.putJob(spec, 1000);
      a.insertTask(task("t1"));
      a.shareEvents([{ at: 1000, type: "job", job: "web", message: "job web created" }]);
    });
    await a.durable();
    await waitFor("b to see the task", () => b.getTask("t1") ?? undefined, 5_000, 10);
    expect(b.getJob("web")?.version).toBe(1);
    await waitFor("b to be told", () => (seen.some((s) => s.events.length > 0) ? true : undefined), 5_000, 10);
    expect(seen.flatMap((s) => [...s.changes.tasks])).toContain("t1");
    expect(seen.flatMap((s) => s.events.map((e) => e.message))).toEqual(["job web created"]);
  });

  test("what the watch brings before the manager follows is handed over when it does", async () => {
    const a = await open("a");
    const b = await open("b");
    a.putJob(spec, 1000);
    await a.durable();
    await waitFor("b's store to hold the job", () => b.getJob("web") ?? undefined, 5_000, 10);
    const told: string[] = [];
    b.follow({ changed: (changes) => told.push(...changes.jobs), reloaded: () => undefined });
    expect(told).toEqual(["web"]);
  });

  test("two managers writing the same task from the same value: one is refused (409) and reloads what the other stored", async () => {
    const a = await open("a");
    a.transaction(() => {
      a.putJob(spec, 1000);
      a.insertTask(task("t1"));
    });
    await a.durable();
    const b = await open("b");
    let reloaded = 0;
    b.follow({ changed: () => undefined, reloaded: () => reloaded++ });
    a.updateTask({ ...task("t1"), state: "running" });
    b.updateTask({ ...task("t1"), state: "lost" });
    const outcomes = await Promise.allSettled([a.durable(), b.durable()]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected")?.reason).toBeInstanceOf(ConflictError);
    const stored = outcomes[0]?.status === "fulfilled" ? "running" : "lost";
    if (stored === "running") await waitFor("b to reload", () => (reloaded > 0 ? true : undefined), 5_000, 10);
    await waitFor("both to hold what was stored", () => (a.getTask("t1")?.state === stored && b.getTask("t1")?.state === stored ? true : undefined), 5_000, 10);
  });

  test("one logical change is one etcd transaction: a job with more tasks than fit one goes in several changes, each whole", async () => {
    const a = await open("a");
    a.putJob(spec, 1000);
    for (let i = 0; i < 300; i++) a.insertTask(task(`t${i}`));
    await a.durable();
    const b = await open("b");
    expect(b.listTasks()).toHaveLength(300);
    a.deleteJob("web");
    await a.durable();
    const c = await open("c");
    expect(c.listTasks()).toHaveLength(0);
    expect(c.getJob("web")).toBeNull();
  });

  test("a job purged and submitted again at once is stored (its old versions' revisions are not expected any more)", async () => {
    const a = await open("a");
    a.putJob(spec, 1000);
    a.putJob({ ...spec, datacenters: ["dc1"] }, 1100);
    await a.durable();
    // In one turn: the purge is still on its way when the job is stored again.
    a.deleteJob("web");
    a.putJob(spec, 2000);
    await a.durable();
    expect((await open("b")).listJobVersions("web").map((v) => v.version)).toEqual([1]);
  });

  test("without quorum a write is refused with a 503 and later ones at once; reads keep answering; it all comes back with quorum", async () => {
    const a = await open("a");
    a.putJob(spec, 1000);
    await a.durable();
    let reloaded = 0;
    a.follow({ changed: () => undefined, reloaded: () => reloaded++ });
    await cluster().kill(1);
    await cluster().kill(2);
    try {
      a.setJobStatus("web", "stopped", 2000);
      const refused = await a.durable().then(() => null, (err: Error) => err);
      expect(refused).toBeInstanceOf(UnavailableError);
      expect(refused?.message).toMatch(/etcd has no quorum or cannot be reached/);
      expect(() => a.putJob({ ...spec, name: "api" }, 3000)).toThrow(UnavailableError);
      expect(a.getJob("web")).not.toBeNull();
    } finally {
      await cluster().restart(1);
      await cluster().restart(2);
    }
    await waitFor("the store to reload once etcd has quorum again", () => (reloaded > 0 ? true : undefined), 15_000, 50);
    // The refused write's fate was unknown: etcd may still commit it once it has quorum. Either way, the store holds what etcd holds.
    const fresh = await open("fresh");
    await waitFor("the store to hold what etcd holds", () => (a.getJob("web")?.status === fresh.getJob("web")?.status ? true : undefined), 5_000, 50);
    a.putJob({ ...spec, name: "api" }, 4000);
    await a.durable();
    expect((await open("b")).getJob("api")?.version).toBe(1);
  }, 60_000);

  test("one manager leads; when its lease is gone, its fenced write is refused, it steps down, and another leads", async () => {
    const a = await open("a");
    const b = await open("b");
    const roles: string[] = [];
    a.elect("http://a", { lead: () => roles.push("a leads"), follow: (why) => roles.push(`a follows: ${why}`) });
    await waitFor("a to lead", () => (a.leading ? true : undefined), 5_000, 10);
    b.elect("http://b", { lead: () => roles.push("b leads"), follow: () => roles.push("b follows") });
    await Bun.sleep(500);
    expect(b.leading).toBe(false);
    expect(b.managers().leader).toBe("a");
    expect(a.managers().managers.map((m) => m.name)).toEqual(["a", "b"]);
    const namesake = await open("a");
    expect(() => namesake.elect("http://elsewhere", { lead: () => undefined, follow: () => undefined })).toThrow(/another manager named a runs at http:\/\/a/);

    // As if a had been paused past its TTL: the leader key vanishes under it.
    const gateway = new EtcdGateway(cluster().endpoints);
    const holder = await gateway.get(LEADER_KEY);
    await gateway.revokeLease(holder?.lease ?? "0");
    a.putJob(spec, 1000);
    const refused = await a.durable().then(() => null, (err: Error) => err);
    // Nothing was stored: a client sends the same request again (503 `reloading`).
    expect(refused).toBeInstanceOf(StoreReloadingError);
    expect(roles).toContain("a follows: a fenced write was refused: its leadership had ended");
    await waitFor("b to lead", () => (b.leading ? true : undefined), 5_000, 10);
    expect(a.leading).toBe(false);
    expect(b.getJob("web")).toBeNull();
  }, 30_000);
});
