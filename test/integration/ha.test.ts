import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_IMAGE, requireDocker } from "../support/docker.ts";
import { HaCluster } from "../support/ha-cluster.ts";
import { runningContainersOf, sleeperJob } from "../support/process-cluster.ts";
import { CUBE_BINARY, requireBinary } from "../support/processes.ts";
import { submitLoop } from "../support/submit-loop.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * Issue 12: three managers on a real 3-member etcd, two workers, all real processes of dist/cube.
 * The leader manager is killed, an etcd member is killed, the leader is paused past its lease; the
 * cluster keeps taking writes, loses nothing acknowledged, and never restarts or duplicates a task.
 */
const SERVICE = "ha-svc";
let cluster: HaCluster;

const sorted = (ids: string[]) => [...ids].sort();
const serviceContainers = async () => sorted((await runningContainersOf(SERVICE)).map((c) => c.containerId));

beforeAll(async () => {
  await requireDocker();
  requireBinary();
  cluster = await HaCluster.start({ managers: 3, workers: ["ha-w1", "ha-w2"] });
  await cluster.client.submitJob(sleeperJob(SERVICE, 4), "json");
  await waitFor("the service's 4 containers", async () => ((await runningContainersOf(SERVICE)).length === 4 ? true : undefined), 30_000);
}, 90_000);

afterAll(async () => {
  await cluster?.close();
});

describe("highly available managers on etcd", () => {
  test("the leader manager SIGKILLed while jobs are submitted to all three: a short gap, nothing acknowledged lost, the service untouched, new work runs", async () => {
    const before = await serviceContainers();
    expect(before).toHaveLength(4);
    const old = await cluster.leader();
    const clients = cluster.managers.map((_, i) => cluster.clientOf(i));
    // 12 s: past a new leader's election (the 3 s lease) and its wait of one heartbeat TTL (3 s) before it would mark any node down.
    const result = await submitLoop(clients, "ha-kill", 12_000, async () => {
      await Bun.sleep(2_000);
      await cluster.managers[old]?.proc.stop("SIGKILL");
    });
    console.log(`leader kill: ${result.acked.length} submits acknowledged, longest gap ${Math.round(result.longestGapMs)} ms, ${result.failures} failed attempts`);
    expect(result.longestGapMs).toBeLessThanOrEqual(5_000);

    const leader = await cluster.leader();
    expect(leader).not.toBe(old);
    const stored = new Set((await cluster.client.listJobs()).map((j) => j.name));
    const lost = result.acked.filter((a) => !stored.has(a.name)).map((a) => a.name);
    expect(lost).toEqual([]);
    expect(await serviceContainers()).toEqual(before);
    const tasks = await cluster.client.listTasks({ job: SERVICE });
    expect(tasks.filter((t) => t.state === "running")).toHaveLength(4);

    await cluster.client.submitJob(JSON.stringify({ name: "ha-after", type: "batch", tasks: [{ name: "main", image: TEST_IMAGE, command: ["true"], resources: { cpu: 0.01, memory: 8 } }] }), "json");
    await waitFor("the job submitted after the failover to complete", async () => {
      const [task] = await cluster.client.listTasks({ job: "ha-after" });
      return task?.state === "completed" ? true : undefined;
    }, 30_000);
    await cluster.startManager(old);
  }, 90_000);

  test("an etcd member killed: writes go on after no more than an etcd election", async () => {
    const member = await cluster.etcd.leader();
    const clients = cluster.managers.map((_, i) => cluster.clientOf(i));
    const result = await submitLoop(clients, "ha-etcd", 5_000, async () => {
      await Bun.sleep(1_000);
      await cluster.etcd.kill(member);
    });
    console.log(`etcd leader member kill: ${result.acked.length} submits acknowledged, longest gap ${Math.round(result.longestGapMs)} ms`);
    await cluster.etcd.restart(member);
    expect(result.longestGapMs).toBeLessThanOrEqual(2_500);
    const stored = new Set((await cluster.client.listJobs()).map((j) => j.name));
    expect(result.acked.filter((a) => !stored.has(a.name))).toEqual([]);
  }, 60_000);

  test("the leader paused (SIGSTOP) for 10 s loses its lease; resumed, its writes are refused and it rejoins as a follower", async () => {
    const before = await serviceContainers();
    const old = await cluster.leader();
    const paused = cluster.managers[old]?.proc.proc;
    paused?.kill("SIGSTOP");
    try {
      const others = cluster.managers.map((_, i) => i).filter((i) => i !== old);
      const next = await waitFor("another manager to lead", async () => {
        const views = await cluster.clientOf(others[0] as number).managers().catch(() => []);
        const leader = views.find((v) => v.leader);
        return leader && leader.name !== cluster.managers[old]?.name ? leader.name : undefined;
      }, 15_000, 100);
      expect(next).not.toBe(cluster.managers[old]?.name);
      await Bun.sleep(10_000 - 3_500);
    } finally {
      paused?.kill("SIGCONT");
    }
    const resumed = cluster.clientOf(old);
    await waitFor("the resumed manager to follow", async () => {
      const views = await resumed.managers().catch(() => []);
      const leader = views.find((v) => v.leader);
      return leader && leader.name !== cluster.managers[old]?.name ? true : undefined;
    }, 15_000, 100);
    expect(cluster.outputOf(old)).toMatch(/stepped down/);
    const views = await resumed.managers();
    expect(views.filter((v) => v.leader)).toHaveLength(1);
    // As a follower it takes API writes again (fenced by each key's revision, not by leadership) once it has read etcd again.
    const job = JSON.stringify({ name: "ha-resumed", tasks: [{ name: "main", image: TEST_IMAGE, command: ["true"], count: 0 }] });
    await waitFor("the resumed manager to take a submit", () => resumed.submitJob(job, "json").catch(() => undefined), 10_000, 100);
    // Another manager reads its own copy, which follows etcd's watch: it sees the job a moment later.
    const seen = await waitFor("another manager to see the job", () => cluster.clientOf((old + 1) % 3).getJob("ha-resumed").catch(() => undefined), 5_000, 50);
    expect(seen.name).toBe("ha-resumed");
    expect(await serviceContainers()).toEqual(before);
  }, 90_000);

  test("the binary alone, copied into an empty directory, runs a manager on etcd; an unreachable etcd at start is exit 1 naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cube-alone-"));
    try {
      copyFileSync(CUBE_BINARY, join(dir, "cube"));
      Bun.spawnSync(["chmod", "+x", join(dir, "cube")]);
      const proc = Bun.spawn([join(dir, "cube"), "serve", "--role=manager", `--store=${cluster.storeUrl}`, "--name=alone", "--port=0", "--bind=127.0.0.1", `--data-dir=${join(dir, "data")}`], {
        cwd: dir,
        stdout: "pipe",
        stderr: "pipe",
        env: { PATH: "/usr/bin:/bin", HOME: dir },
      });
      try {
        const views = await waitFor("the lone binary's manager to register", async () => {
          const found = (await cluster.client.managers()).find((m) => m.name === "alone");
          return found;
        }, 15_000, 100);
        expect(views.leader).toBe(false);
      } finally {
        proc.kill("SIGTERM");
        await proc.exited;
      }
      const unreachable = Bun.spawnSync([join(dir, "cube"), "serve", "--role=manager", "--store=etcd://127.0.0.1:1", "--port=0", `--data-dir=${join(dir, "data2")}`], { cwd: dir, timeout: 20_000 });
      expect(unreachable.exitCode).toBe(1);
      expect(unreachable.stderr.toString()).toContain("http://127.0.0.1:1");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
