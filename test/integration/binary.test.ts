import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LABELS } from "../../src/driver/driver.ts";
import type { NodeView, TaskView } from "../../src/model/api-types.ts";
import { containersWithLabel, removeContainersWithLabel, requireDocker, TEST_IMAGE } from "../support/docker.ts";
import { uniqueJobName } from "../support/local-cluster.ts";
import { cube, CubeProcess, managerTokens, requireBinary } from "../support/processes.ts";
import { releaseServiceAddresses } from "../support/service-addresses.ts";
import { waitFor } from "../support/wait-for.ts";

const dataDir = mkdtempSync(join(tmpdir(), "cube-bin-"));
const processes: CubeProcess[] = [];
let managerUrl = "";
let nodeIds: string[] = [];
let token = "";
/** The CLI with the cluster's management token. */
const cli = (args: string[]) => cube([...args, "--addr", managerUrl], { CUBE_TOKEN: token });

beforeAll(async () => {
  requireBinary();
  await requireDocker();
});

afterAll(async () => {
  for (const p of processes) await p.stop("SIGKILL");
  for (const id of nodeIds) await removeContainersWithLabel(LABELS.nodeId, id);
  await releaseServiceAddresses(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
});

test("the compiled binary prints its version", async () => {
  const result = await cube(["version"]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toMatch(/^cube \d+\.\d+\.\d+/);
  const json = await cube(["version", "--json"]);
  expect(JSON.parse(json.stdout).version).toMatch(/^\d+\.\d+\.\d+/);
});

test("a client command names the address it cannot reach and exits 1", async () => {
  const result = await cube(["nodes", "--addr", "http://127.0.0.1:1"]);
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toContain("cannot reach the Cube manager at http://127.0.0.1:1");
});

test("a manager starts itself again, same pid, with its heap budget (--heap-budget MiB, default 600, 0 for none)", async () => {
  const cases: [string[], string | undefined][] = [
    [[], String(600 * 1024 * 1024)],
    [["--heap-budget=128"], String(128 * 1024 * 1024)],
    [["--heap-budget=0"], undefined],
  ];
  for (const [i, [flags, budget]] of cases.entries()) {
    const manager = new CubeProcess(["serve", "--role=manager", "--port=0", "--bind=127.0.0.1", `--data-dir=${join(dataDir, `heap-${i}`)}`, ...flags]);
    processes.push(manager);
    const url = (await manager.waitForOutput(/manager listening url=(\S+)/))[1] as string;
    expect((await fetch(`${url}/v1/health`)).status).toBe(200);
    const environ = readFileSync(`/proc/${manager.proc.pid}/environ`, "utf8").split("\0");
    expect(environ.find((e) => e.startsWith("BUN_JSC_forceRAMSize="))?.slice("BUN_JSC_forceRAMSize=".length)).toBe(budget);
    expect(await manager.stop()).toBe(0);
  }
  const bad = await cube(["serve", "--role=manager", "--heap-budget=lots", `--data-dir=${join(dataDir, "heap-bad")}`]);
  expect(bad.exitCode).not.toBe(0);
  expect(bad.stderr).toContain('--heap-budget must be a whole number of at least 0, not "lots"');
});

test("a manager and two workers as separate processes form a cluster that runs a job", async () => {
  const manager = new CubeProcess(["serve", "--role=manager", "--port=0", "--bind=127.0.0.1", `--data-dir=${join(dataDir, "m")}`]);
  processes.push(manager);
  managerUrl = (await manager.waitForOutput(/manager listening url=(\S+)/))[1] as string;
  const tokens = managerTokens(join(dataDir, "m"));
  token = tokens.management;
  // Printed once, at the first start, and kept readable by the owner only. On stdout, while the log is
  // on stderr: the two pipes are read apart, so the banner may come in after the log line.
  await manager.waitForOutput(/--join-token=\S+/);
  expect(manager.output).toContain(`export CUBE_TOKEN=${tokens.management}`);
  expect(manager.output).toContain(`--join-token=${tokens.join}`);
  expect(statSync(join(dataDir, "m", "management-token")).mode & 0o777).toBe(0o600);
  expect(statSync(join(dataDir, "m", "join-token")).mode & 0o777).toBe(0o600);
  const anonymous = await cube(["nodes", "--addr", managerUrl], { CUBE_TOKEN: "" });
  expect(anonymous.exitCode).toBe(1);
  expect(anonymous.stderr).toContain("this call needs a token");
  for (const name of ["bin-w1", "bin-w2"]) {
    const worker = new CubeProcess(["serve", "--role=worker", `--join=${managerUrl}`, `--join-token=${tokens.join}`, "--port=0", "--bind=127.0.0.1", `--name=${name}`, `--data-dir=${join(dataDir, "w")}`, "--label", "rack=r1"]);
    processes.push(worker);
    await worker.waitForOutput(/worker listening/);
  }

  const nodes = await waitFor("two ready nodes", async () => {
    const r = await cli(["nodes", "--json"]);
    const list = JSON.parse(r.stdout) as NodeView[];
    return list.length === 2 && list.every((n) => n.status === "ready" && n.stats !== null) ? list : undefined;
  });
  nodeIds = nodes.map((n) => n.id);
  expect(nodes.map((n) => n.name)).toEqual(["bin-w1", "bin-w2"]);
  for (const n of nodes) {
    expect(n.capacity.cpu).toBeGreaterThan(0);
    expect(n.capacity.memory).toBeGreaterThan(0);
    expect(n.capacity.disk).toBeGreaterThan(0);
    expect(n.labels).toEqual({ rack: "r1" });
  }
  const table = await cli(["nodes"]);
  expect(table.stdout).toMatch(/NAME\s+STATUS/);
  expect(table.stdout).toMatch(/bin-w1\s+ready/);

  const name = uniqueJobName("bin");
  const file = join(dataDir, "job.yaml");
  writeFileSync(file, `name: ${name}\ntasks:\n  - name: main\n    image: ${TEST_IMAGE}\n    command: ["sleep", "300"]\n    count: 2\n    resources: { cpu: 0.1, memory: 16 }\n`);
  const run = await cli(["run", file]);
  expect(run.exitCode).toBe(0);
  expect(run.stdout).toContain(`job ${name} created`);

  const tasks = await waitFor("2 running tasks", async () => {
    const r = await cli(["tasks", "--job", name, "--json"]);
    const list = JSON.parse(r.stdout) as TaskView[];
    return list.filter((t) => t.state === "running").length === 2 ? list : undefined;
  });
  expect(new Set(tasks.map((t) => t.nodeName))).toEqual(new Set(["bin-w1", "bin-w2"]));
  expect((await containersWithLabel(LABELS.job, name)).length).toBe(2);

  const status = await cli(["status", name]);
  expect(status.stdout).toContain("2/2 running");

  const unknown = await cli(["status", "no-such-job"]);
  expect(unknown.exitCode).toBe(1);
  expect(unknown.stderr).toContain("job no-such-job does not exist");
});

test("tokens from the CLI: create with a role, list without secrets, revoke at once", async () => {
  const created = await cli(["token", "create", "--role=read", "--name=ci-reader"]);
  expect(created.exitCode).toBe(0);
  const secret = created.stdout.trim();
  expect(secret).toMatch(/^cube_[0-9a-f]{12}_/);
  const id = secret.slice("cube_".length, "cube_".length + 12);
  const asReader = (args: string[]) => cube([...args, "--addr", managerUrl], { CUBE_TOKEN: secret });
  expect((await asReader(["nodes"])).exitCode).toBe(0);
  const refused = await asReader(["token", "list"]);
  expect(refused.exitCode).toBe(1);
  expect(refused.stderr).toContain("this needs a token with role admin");
  const list = await cli(["token", "list"]);
  expect(list.stdout).toMatch(new RegExp(`${id}\\s+ci-reader\\s+read`));
  expect(list.stdout).toMatch(/management\s+admin/);
  expect(list.stdout).not.toContain(secret);
  expect((await cli(["token", "revoke", id])).stdout).toContain(`token ${id} (read, "ci-reader") revoked`);
  const revoked = await asReader(["nodes"]);
  expect(revoked.exitCode).toBe(1);
  expect(revoked.stderr).toContain("the token is not valid");
});
