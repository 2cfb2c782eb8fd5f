import { describe, expect, test } from "bun:test";
import dns2 from "dns2";
import { volumeLines } from "../../src/cli/status.ts";
import { containerSpec } from "../../src/driver/docker/container-spec.ts";
import { volumeHomes, volumePlacement } from "../../src/manager/volume-homes.ts";
import { validateJob } from "../../src/model/job-schema.ts";
import { placeTasks } from "../../src/scheduler/index.ts";
import type { Task } from "../../src/model/task.ts";
import { openStore } from "../../src/store/index.ts";
import { answerQuestion, RCODE } from "../../src/worker/services/dns-answers.ts";
import { makeJobSpec, makeNode, makeTask, makeTaskSpec } from "./fixtures.ts";
import { ManagerFixture } from "./manager-fixture.ts";

const pgdata = [{ name: "pgdata", target: "/data", readonly: false }];
const mountsPgdata = () => ["pgdata"];

describe("named volumes in a job file", () => {
  test("kept with their defaults; a name or a path twice is refused", () => {
    const spec = validateJob({ name: "db", tasks: [{ name: "pg", image: "x", volumes: [{ name: "pgdata", target: "/var/lib/pg" }] }] });
    expect(spec.tasks[0]?.volumes).toEqual([{ name: "pgdata", target: "/var/lib/pg", readonly: false }]);
    expect(() => validateJob({ name: "db", tasks: [{ name: "pg", image: "x", volumes: [{ name: "a", target: "/d" }, { name: "a", target: "/e" }, { name: "b", target: "/d" }] }] })).toThrow(
      /tasks\[0\]\.volumes\[1\]\.name: volume "a" is mounted twice[\s\S]*tasks\[0\]\.volumes\[2\]\.target: \/d is mounted twice/,
    );
    expect(() => validateJob({ name: "db", tasks: [{ name: "pg", image: "x", volumes: [{ name: "Bad_Name", target: "/d" }] }] })).toThrow("tasks[0].volumes[0].name");
    // A secret's file cannot be where a volume is mounted.
    expect(() => validateJob({ name: "db", tasks: [{ name: "pg", image: "x", volumes: [{ name: "keys", target: "/run/secrets/pw" }], secrets: [{ name: "pw" }] }] })).toThrow(
      "tasks[0].secrets[0].file: /run/secrets/pw is already the target of another secret or mount",
    );
  });

  test("the container mounts the node's own volume, labelled with the job, node and volume name", () => {
    const spec = makeTaskSpec({ volumes: pgdata, mounts: [{ source: "/srv", target: "/srv", readonly: true }] });
    const create = containerSpec({ taskId: "0123456789", job: "shop", group: "db", index: 0, nodeId: "n1", spec, dns: ["198.18.0.1"] }, { "test.run": "x" });
    expect(create.HostConfig?.Mounts).toEqual([
      { Type: "bind", Source: "/srv", Target: "/srv", ReadOnly: true },
      {
        Type: "volume",
        Source: "cube-shop-pgdata-n1",
        Target: "/data",
        ReadOnly: false,
        VolumeOptions: { NoCopy: false, Labels: { "test.run": "x", "cube.job": "shop", "cube.node.id": "n1", "cube.volume": "pgdata" }, DriverConfig: { Name: "local", Options: {} } },
      },
    ]);
    // The job's services answer to bare names in its containers.
    expect(create.HostConfig?.DnsSearch).toEqual(["shop.service.cube"]);
  });
});

describe("where a volume lives", () => {
  test("the node of the newest task that is placed or ran; earlier nodes are remembered, oldest first", () => {
    const tasks = [
      makeTask({ nodeId: "id-a", state: "stopped", startedAt: 1, createdAt: 1 }),
      makeTask({ nodeId: "id-b", state: "failed", startedAt: null, createdAt: 2 }),
      makeTask({ nodeId: "id-b", state: "stopped", startedAt: 3, createdAt: 3 }),
      makeTask({ nodeId: "id-c", state: "scheduled", createdAt: 4 }),
    ];
    expect(volumeHomes(tasks, mountsPgdata).get("pgdata")).toEqual({ volume: "pgdata", nodeId: "id-c", left: ["id-a", "id-b"] });
    expect(volumeHomes([makeTask({ nodeId: "id-a", state: "failed", startedAt: null })], mountsPgdata).size).toBe(0);
    // A drain's replacement made in the same millisecond as the task it replaces is the newer.
    const drained = [makeTask({ nodeId: "id-b", createdAt: 5 }), makeTask({ nodeId: "id-a", desired: "stopped", createdAt: 5 })];
    expect(volumeHomes(drained, mountsPgdata).get("pgdata")).toEqual({ volume: "pgdata", nodeId: "id-b", left: ["id-a"] });
  });

  test("a group sticks to its volume's node; a drained or down node lets it go, saying the data did not move", () => {
    const group = makeTaskSpec({ volumes: pgdata });
    const homes = volumeHomes([makeTask({ nodeId: "id-a" })], mountsPgdata);
    const nodes = new Map([["id-a", makeNode("a")]]);
    expect(volumePlacement("shop", group, homes, (id) => nodes.get(id))).toEqual({ limit: { nodes: new Set(["id-a"]), reason: "volume pgdata of job shop is on node a" }, stranded: [] });
    nodes.set("id-a", makeNode("a", { status: "draining" }));
    expect(volumePlacement("shop", group, homes, (id) => nodes.get(id))).toEqual({ limit: null, stranded: ["volume pgdata stays on node a (draining): its data did not move"] });
    expect(volumePlacement("shop", group, homes, () => undefined).stranded).toEqual(["volume pgdata stays on node id-a (gone): its data did not move"]);
  });

  test("the scheduler keeps a group on its volume's node, and replicas placed together on one node", () => {
    const nodes = [makeNode("a"), makeNode("b"), makeNode("c")];
    const job = makeJobSpec("shop", [{ name: "db", count: 3, volumes: pgdata }]);
    const group = job.tasks[0] as (typeof job.tasks)[number];
    for (const algorithm of ["spread", "binpack", "epvm", "round-robin"] as const) {
      const together = placeTasks({ job, group, indexes: [0, 1, 2], algorithm, seed: "s" }, { nodes, tasks: [] });
      expect(together.placements.map((p) => p.nodeId)).toEqual(Array(3).fill(together.placements[0]?.nodeId));
    }
    const pinned = placeTasks({ job, group, indexes: [0], algorithm: "spread", seed: "s", exhaustive: true, volumeOn: { nodes: new Set(["id-b"]), reason: "volume pgdata of job shop is on node b" } }, { nodes, tasks: [] });
    expect(pinned.placements[0]?.nodeId).toBe("id-b");
    expect(pinned.placements[0]?.rejected?.map((r) => r.reason)).toEqual(["volume pgdata of job shop is on node b", "volume pgdata of job shop is on node b"]);
  });

  test("the manager places a replacement where the volume is, and elsewhere once that node is drained, saying so", async () => {
    const f = new ManagerFixture();
    f.join("w1");
    f.join("w2");
    f.manager.submitJob(makeJobSpec("shop", [makeTaskSpec({ name: "db", volumes: pgdata })]));
    f.manager.reconcileNow();
    const first = f.tasks("shop")[0] as NonNullable<ReturnType<typeof f.tasks>[number]>;
    await f.report(first, { state: "running", message: "started" });
    for (let i = 0; i < 3; i++) {
      const live = f.live("shop")[0] as NonNullable<ReturnType<typeof f.tasks>[number]>;
      await f.report(live, { state: "failed", message: "exit 1", exitCode: 1 });
      f.clock += 60_000;
      f.manager.reconcileNow();
      expect(f.live("shop")[0]?.nodeId).toBe(first.nodeId as string);
      await f.report(f.live("shop")[0] as NonNullable<ReturnType<typeof f.tasks>[number]>, { state: "running", message: "started" });
    }
    const home = f.manager.getNode(first.nodeId as string);
    f.manager.drainNode(home.name);
    f.manager.reconcileNow();
    const other = home.name === "w1" ? "w2" : "w1";
    const moved = f.live("shop").find((t) => t.nodeId !== home.id);
    expect(moved?.message).toBe(`placed on ${other}; volume pgdata stays on node ${home.name} (draining): its data did not move`);
    expect(f.manager.getJob("shop").volumes).toEqual([{ name: "pgdata", nodeId: moved?.nodeId as string, node: other, left: [home.name] }]);
  });
  test("a volume's users name the slot once while its replaced task is still stopping, and none once both are gone", async () => {
    const f = new ManagerFixture();
    f.join("w1");
    f.manager.submitJob(makeJobSpec("shop", [makeTaskSpec({ name: "db", volumes: pgdata })]));
    f.manager.reconcileNow();
    const old = f.live("shop")[0] as Task;
    await f.report(old, { state: "running", message: "started" });
    f.manager.submitJob(makeJobSpec("shop", [makeTaskSpec({ name: "db", image: "busybox:1.36", volumes: pgdata })]));
    f.manager.reconcileNow();
    const fresh = f.live("shop").find((t) => t.id !== old.id) as Task;
    await f.report(fresh, { state: "running", message: "started" });
    const users = () => f.manager.volumeUsers("shop", "pgdata", old.nodeId as string);
    // The old one is told to stop but has not said it stopped: both mount the volume, under one name.
    expect(f.live("shop").map((t) => [t.id, t.desired])).toEqual(expect.arrayContaining([[old.id, "stopped"], [fresh.id, "running"]]));
    expect(users()).toEqual(["shop.db.0"]);
    await f.report(old, { state: "stopped", message: "stopped" });
    await f.report(fresh, { state: "stopped", message: "stopped" });
    expect(users()).toEqual([]);
  });
});

test("a manager started again on its store keeps a group on its volume's node; a down node lets it go, and cube status says where the data stayed", async () => {
  const store = openStore(":memory:");
  const f = new ManagerFixture(store);
  const w1 = f.join("w1");
  f.manager.submitJob(makeJobSpec("shop", [makeTaskSpec({ name: "db", volumes: pgdata })]));
  f.manager.reconcileNow();
  await f.report(f.live("shop")[0] as Task, { state: "running", message: "started" });
  // w2 holds another job's task, so binpack would take it for any new task that may go anywhere.
  const w2 = f.join("w2");
  f.manager.submitJob(makeJobSpec("fill", [makeTaskSpec({ constraints: [{ attribute: "node.name", operator: "=", value: "w2" }] })]));
  f.manager.reconcileNow();
  expect(f.live("fill")[0]?.nodeId).toBe(w2);
  f.manager.stop();

  const again = new ManagerFixture(store);
  again.clock = f.clock;
  try {
    await again.report(again.live("shop")[0] as Task, { state: "failed", message: "exit 1", exitCode: 1 });
    again.clock += 60_000;
    again.manager.reconcileNow();
    const replaced = again.live("shop")[0] as Task;
    expect(replaced.nodeId).toBe(w1);
    await again.report(replaced, { state: "running", message: "started" });

    // w1 stops heartbeating: it is down, its task lost, and the replacement goes to w2 without the data.
    again.clock += 20_000;
    again.manager.heartbeat(w2, { cpuPercent: 1, memoryUsedMb: 1, diskUsedMb: 1, at: again.clock });
    again.manager.checkLiveness();
    again.manager.reconcileNow();
    const moved = again.live("shop").find((t) => t.desired === "running") as Task;
    expect(moved.nodeId).toBe(w2);
    expect(moved.message).toBe("placed on w2; volume pgdata stays on node w1 (down): its data did not move");
    expect(volumeLines(again.manager.getJob("shop").volumes ?? [])).toEqual(["volume pgdata on node w2; its data on node w1 did not move there"]);
  } finally {
    again.manager.stop();
  }
});

describe("a job's own services by their bare names", () => {
  const lookup = (name: string, job?: string) => (name === "shop-db" && (job === undefined || job === "shop") ? { address: "198.18.0.9", ports: [5432] } : undefined);

  test("NAME.JOB.service.cube is the service JOB-NAME of job JOB (what the search domain makes of NAME)", () => {
    expect(answerQuestion({ name: "db.shop.service.cube", type: dns2.Packet.TYPE.A }, lookup)).toMatchObject({ rcode: RCODE.NOERROR, answers: [{ address: "198.18.0.9" }] });
    expect(answerQuestion({ name: "shop-db.service.cube", type: dns2.Packet.TYPE.A }, lookup)).toMatchObject({ rcode: RCODE.NOERROR });
    expect(answerQuestion({ name: "db.other.service.cube", type: dns2.Packet.TYPE.A }, lookup)).toMatchObject({ rcode: RCODE.NXDOMAIN });
  });
});
