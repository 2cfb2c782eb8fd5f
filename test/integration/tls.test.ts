import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LABELS } from "../../src/driver/driver.ts";
import type { NodeView, TaskView } from "../../src/model/api-types.ts";
import { removeContainersWithLabel, requireDocker, TEST_IMAGE } from "../support/docker.ts";
import { uniqueJobName } from "../support/local-cluster.ts";
import { cube, CubeProcess, managerTokens, requireBinary } from "../support/processes.ts";
import { releaseServiceAddresses } from "../support/service-addresses.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * HTTPS with material from `cube tls init`: a manager and a worker of the compiled binary, each with
 * its own certificate from one CA, and a second CA that nothing trusts.
 */
const dir = mkdtempSync(join(tmpdir(), "cube-tls-"));
const pki = join(dir, "pki");
const otherPki = join(dir, "other-pki");
const processes: CubeProcess[] = [];
let managerUrl = "";
let tokens: { management: string; join: string };
let nodeId = "";

const cert = (name: string) => [`--tls-cert=${join(pki, `${name}.pem`)}`, `--tls-key=${join(pki, `${name}-key.pem`)}`];
const cli = (args: string[], ca = join(pki, "ca.pem")) => cube([...args, "--addr", managerUrl, "--tls-ca", ca], { CUBE_TOKEN: tokens.management });

function worker(name: string, ca: string): CubeProcess {
  const p = new CubeProcess(["serve", "--role=worker", `--join=${managerUrl}`, `--join-token=${tokens.join}`, `--tls-ca=${ca}`, ...cert("w1"), "--port=0", "--bind=127.0.0.1", `--name=${name}`, `--data-dir=${join(dir, "workers")}`]);
  processes.push(p);
  return p;
}

beforeAll(async () => {
  requireBinary();
  await requireDocker();
  for (const args of [["--dir", pki], ["--dir", pki, "--name", "w1"], ["--dir", otherPki]]) {
    const made = await cube(["tls", "init", ...args]);
    expect(made.exitCode).toBe(0);
  }
  const manager = new CubeProcess(["serve", "--role=manager", ...cert("manager"), `--tls-ca=${join(pki, "ca.pem")}`, "--port=0", "--bind=127.0.0.1", `--data-dir=${join(dir, "manager")}`]);
  processes.push(manager);
  managerUrl = (await manager.waitForOutput(/manager listening url=(\S+)/))[1] as string;
  tokens = managerTokens(join(dir, "manager"));
});

afterAll(async () => {
  for (const p of processes) await p.stop("SIGKILL");
  if (nodeId) await removeContainersWithLabel(LABELS.nodeId, nodeId);
  await releaseServiceAddresses(dir);
  rmSync(dir, { recursive: true, force: true });
});

describe("TLS", () => {
  test("cube tls init makes a CA and certificates, keys readable by their owner only", () => {
    expect(managerUrl).toStartWith("https://127.0.0.1:");
    expect(readFileSync(join(pki, "ca.pem"), "utf8")).toContain("BEGIN CERTIFICATE");
    expect(readFileSync(join(pki, "manager-key.pem"), "utf8")).toContain("BEGIN PRIVATE KEY");
    for (const key of ["ca-key.pem", "manager-key.pem", "w1-key.pem"]) expect(statSync(join(pki, key)).mode & 0o777).toBe(0o600);
  });

  test("the CLI with the cluster's CA talks to the manager; with another CA, or none, it refuses, saying why", async () => {
    expect((await cli(["nodes"])).exitCode).toBe(0);
    const refused = await cli(["nodes"], join(otherPki, "ca.pem"));
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`refusing the Cube manager at ${managerUrl}: its TLS certificate does not verify`);
    expect(refused.stderr).toContain("--tls-ca");
    const noCa = await cube(["nodes", "--addr", managerUrl], { CUBE_TOKEN: tokens.management, CUBE_TLS_CA: "" });
    expect(noCa.exitCode).toBe(1);
    expect(noCa.stderr).toContain("its TLS certificate does not verify");
  });

  test("a worker given the wrong CA refuses to join and exits", async () => {
    const refusing = worker("tls-wrong", join(otherPki, "ca.pem"));
    expect(await refusing.proc.exited).toBe(1);
    expect(refusing.output).toContain("its TLS certificate does not verify");
    const nodes = JSON.parse((await cli(["nodes", "--json"])).stdout) as NodeView[];
    expect(nodes).toEqual([]);
  });

  test("a worker with the right CA joins over HTTPS and serves its own API over HTTPS, to the manager only", async () => {
    const joined = worker("tls-w1", join(pki, "ca.pem"));
    const workerUrl = (await joined.waitForOutput(/worker listening url=(\S+)/))[1] as string;
    expect(workerUrl).toStartWith("https://");
    const nodes = await waitFor("the worker ready", async () => {
      const list = JSON.parse((await cli(["nodes", "--json"])).stdout) as NodeView[];
      return list.length === 1 && list[0]?.status === "ready" ? list : undefined;
    });
    nodeId = nodes[0]?.id as string;
    const ca = readFileSync(join(pki, "ca.pem"), "utf8");
    // The worker's task routes answer the manager alone, not a user's token.
    const direct = await fetch(`${workerUrl}/v1/tasks/x/logs`, { tls: { ca }, headers: { authorization: `Bearer ${tokens.management}` } });
    expect(direct.status).toBe(401);

    const name = uniqueJobName("tls");
    const file = join(dir, "job.json");
    writeFileSync(file, JSON.stringify({ name, tasks: [{ name: "main", image: TEST_IMAGE, command: ["sh", "-c", "echo hello over tls; sleep 300"], resources: { cpu: 0.05, memory: 8 } }] }));
    expect((await cli(["run", file])).exitCode).toBe(0);
    const task = await waitFor("the task running", async () => {
      const list = JSON.parse((await cli(["tasks", "--job", name, "--json"])).stdout) as TaskView[];
      return list[0]?.state === "running" ? list[0] : undefined;
    });
    // Logs go CLI → manager → worker, both hops over verified TLS, the second with the node's key.
    const logs = await waitFor("the output", async () => {
      const out = await cli(["logs", task.id]);
      return out.stdout.includes("hello over tls") ? out.stdout : undefined;
    });
    expect(logs).toContain("hello over tls");
    expect((await cli(["stop", name, "--purge"])).exitCode).toBe(0);
  });
});
