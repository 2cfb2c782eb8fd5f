import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EtcdCluster, requireEtcd, startEtcdCluster } from "../support/etcd-cluster.ts";
import { CubeProcess, cube, managerTokens, requireBinary } from "../support/processes.ts";

/**
 * `cube snapshot save` on a manager with SQLite, `cube snapshot restore` on a new manager on etcd: the
 * way an existing cluster moves to HA. Real processes of dist/cube and a real 3-member etcd; no Docker
 * (the job's tasks wait for nodes, which is state like any other).
 */
const dir = mkdtempSync(join(tmpdir(), "cube-snapshot-cli-"));
const started: CubeProcess[] = [];
let etcd: EtcdCluster;

async function manager(name: string, extra: string[]): Promise<string> {
  const proc = new CubeProcess(["serve", "--role=manager", "--port=0", "--bind=127.0.0.1", `--data-dir=${join(dir, name)}`, `--name=${name}`, ...extra]);
  started.push(proc);
  return ((await proc.waitForOutput(/manager listening url=(\S+)/))[1] as string).replace(/\/$/, "");
}

beforeAll(async () => {
  requireBinary();
  requireEtcd();
  etcd = await startEtcdCluster({ members: 3 });
}, 30_000);

afterAll(async () => {
  for (const p of started) await p.stop("SIGKILL");
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("save on SQLite, restore on etcd: the same jobs, versions and tasks, and the old tokens work again; a file that is not a snapshot is refused", async () => {
  const sqliteUrl = await manager("single", []);
  const old = { CUBE_ADDR: sqliteUrl, CUBE_TOKEN: managerTokens(join(dir, "single")).management };
  const job = (count: number) => JSON.stringify({ name: "web", tasks: [{ name: "main", image: "cube-test/busybox:latest", count }] });
  writeFileSync(join(dir, "web.json"), job(2));
  expect((await cube(["run", join(dir, "web.json"), "--detach"], old)).exitCode).toBe(0);
  writeFileSync(join(dir, "web.json"), job(3));
  expect((await cube(["run", join(dir, "web.json"), "--detach"], old)).exitCode).toBe(0);
  const before = {
    status: JSON.parse((await cube(["status", "web", "--json"], old)).stdout),
    history: JSON.parse((await cube(["job", "history", "web", "--json"], old)).stdout),
    tokens: (await cube(["token", "list", "--json"], old)).stdout,
  };

  const file = join(dir, "cube.snapshot");
  const saved = await cube(["snapshot", "save", file], old);
  expect(saved.exitCode).toBe(0);
  expect(saved.stdout).toMatch(/^saved \d+ records to /);

  const etcdUrl = await manager("ha", [`--store=etcd://${etcd.endpoints.map((e) => e.replace("http://", "")).join(",")}`]);
  const fresh = { CUBE_ADDR: etcdUrl, CUBE_TOKEN: managerTokens(join(dir, "ha")).management };
  writeFileSync(join(dir, "not-a-snapshot"), "name: web\n");
  const refused = await cube(["snapshot", "restore", join(dir, "not-a-snapshot")], fresh);
  expect(refused.exitCode).toBe(1);
  expect(refused.stderr).toMatch(/not a Cube snapshot.*nothing was changed/);
  expect(JSON.parse((await cube(["status", "--json"], fresh)).stdout)).toEqual([]);

  const restored = await cube(["snapshot", "restore", file], fresh);
  expect(restored.exitCode).toBe(0);
  expect(restored.stdout).toMatch(/restored 1 jobs, 3 tasks, 0 nodes, \d+ tokens/);
  const now = { CUBE_ADDR: etcdUrl, CUBE_TOKEN: old.CUBE_TOKEN };
  const after = {
    status: JSON.parse((await cube(["status", "web", "--json"], now)).stdout),
    history: JSON.parse((await cube(["job", "history", "web", "--json"], now)).stdout),
    tokens: (await cube(["token", "list", "--json"], now)).stdout,
  };
  expect(after.history).toEqual(before.history);
  expect(after.status.tasks.map((t: { id: string }) => t.id).sort()).toEqual(before.status.tasks.map((t: { id: string }) => t.id).sort());
  expect(after.status.version).toBe(2);
  // The token list differs only in when the restoring token was last used.
  const strip = (text: string) => (JSON.parse(text) as { id: string }[]).map(({ id }) => id);
  expect(strip(after.tokens)).toEqual(strip(before.tokens));
  const managers = JSON.parse((await cube(["managers", "--json"], now)).stdout) as { name: string; leader: boolean }[];
  expect(managers.map((m) => [m.name, m.leader])).toEqual([["ha", true]]);
}, 60_000);
