import type { Subprocess } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LABELS } from "../../src/driver/driver.ts";
import type { JobDetail, TaskView } from "../../src/model/api-types.ts";
import { DEFAULT_SECRETS_DIR } from "../../src/worker/secret-files.ts";
import { containersWithLabel, docker, requireDocker, TEST_IMAGE } from "../support/docker.ts";
import { freePort } from "../support/free-port.ts";
import { uniqueJobName } from "../support/local-cluster.ts";
import { ProcessCluster, SLEEPER } from "../support/process-cluster.ts";
import { CUBE_BINARY, CubeProcess, managerTokens, requireBinary } from "../support/processes.ts";
import { jobWhen, waitFor } from "../support/wait-for.ts";

/**
 * Secrets end to end, with real processes of dist/cube, a real Docker engine and real SQLite: a
 * container reads its secret from a file and the value is nowhere else (the data dirs' raw files, any
 * API answer, the processes' logs, `docker inspect`); another node's credential gets nothing; a new
 * value rolls the service onto it; a keyring rotation keeps it readable; a manager without the right
 * key-encryption key does not start, and changes nothing.
 */

/** `cube ARGS` with `input` on its standard input. */
async function cubeWith(input: string, args: string[], env: Record<string, string>): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([CUBE_BINARY, ...args], { stdin: new Blob([input]), stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** Every file under dir, as bytes (SQLite's database and write-ahead log included). */
function rawFiles(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .map((path) => ({ path, bytes: readFileSync(path) }));
}

/** The places a value must not be found in: as it is, and in base64 (how the API carries bytes). */
const forms = (value: string) => [value, Buffer.from(value).toString("base64")];

describe("secrets on a cluster of processes", () => {
  let cluster: ProcessCluster;
  let env: Record<string, string>;
  const job = uniqueJobName("secret");
  const password = `pw-${crypto.randomUUID()}`;
  const newPassword = `pw2-${crypto.randomUUID()}`;
  const token = `tok-${crypto.randomUUID()}`;
  const nodeIds: string[] = [];
  const jobFile = join(tmpdir(), `${job}.json`);

  const live = (detail: JobDetail) => detail.tasks.filter((t) => t.desired === "running" && t.state === "running");
  const cat = async (task: TaskView, path: string) => (await cluster.client.exec(task.id, ["cat", path])).output;

  beforeAll(async () => {
    requireBinary();
    await requireDocker();
    cluster = await ProcessCluster.start({ workers: ["sec1", "sec2"] });
    nodeIds.push(cluster.nodeId("sec1"), cluster.nodeId("sec2"));
    env = { CUBE_ADDR: `http://127.0.0.1:${cluster.port}`, CUBE_TOKEN: cluster.managementToken };
    writeFileSync(
      jobFile,
      JSON.stringify({
        name: job,
        constraints: [{ attribute: "node.id", operator: "distinct_hosts" }],
        update: { max_parallel: 1, min_healthy_time: "1s" },
        tasks: [
          {
            name: "main",
            image: TEST_IMAGE,
            command: SLEEPER,
            count: 2,
            resources: { cpu: 0.01, memory: 8 },
            secrets: [{ name: "db_password" }, { name: "api_token", file: "/etc/app/token", env: "API_TOKEN" }],
          },
        ],
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
    for (const id of nodeIds) rmSync(join(DEFAULT_SECRETS_DIR, id), { recursive: true, force: true });
    rmSync(jobFile, { force: true });
  });

  test("a container reads its secret from a read-only file; the value is in no data dir, API answer, log or container config", async () => {
    expect(await cubeWith(password, ["secret", "put", "db_password", "-"], env)).toMatchObject({ exitCode: 0, stdout: "secret db_password created\n" });
    expect((await cubeWith(token, ["secret", "put", "api_token", "-"], env)).exitCode).toBe(0);
    const run = await cubeWith("", ["run", jobFile, "--timeout=60s"], env);
    expect(run).toMatchObject({ exitCode: 0 });
    expect(run.stderr).toContain("warning: task main gets secret api_token as env API_TOKEN: `docker inspect` on its node shows the value");
    const detail = await jobWhen(cluster.client, job, "both tasks running", (j) => live(j).length === 2, 60_000);
    expect(new Set(live(detail).map((t) => t.nodeId))).toEqual(new Set(nodeIds));

    for (const task of live(detail)) {
      expect(await cat(task, "/run/secrets/db_password")).toBe(password);
      expect(await cat(task, "/etc/app/token")).toBe(token);
      expect((await cluster.client.exec(task.id, ["sh", "-c", 'echo -n "$API_TOKEN"'])).output).toBe(token);
      expect((await cluster.client.exec(task.id, ["stat", "-c", "%a %U", "/run/secrets/db_password"])).output.trim()).toBe("400 root");
      const write = await cluster.client.exec(task.id, ["sh", "-c", "echo tampered > /run/secrets/db_password"]);
      expect(write.exitCode).not.toBe(0);
      expect(write.output).toContain("Read-only file system");
      // On the worker's host the value is in memory (a tmpfs), in the task's own directory, mode 0400.
      const hostFile = join(DEFAULT_SECRETS_DIR, task.nodeId as string, task.id, "db_password");
      expect(statSync(hostFile).mode & 0o777).toBe(0o400);
    }

    // docker inspect: the file's value nowhere; the env value (asked for, and warned about) in the environment.
    for (const container of await containersWithLabel(LABELS.job, job)) {
      const inspected = JSON.stringify(await docker.getContainer(container.Id).inspect());
      for (const form of forms(password)) expect(inspected).not.toContain(form);
      expect(inspected).toContain(`API_TOKEN=${token}`);
    }

    // Every answer of the API a user (even an admin) can get.
    const answers: string[] = [];
    const get = async (path: string) => {
      const res = await fetch(`${env.CUBE_ADDR}${path}`, { headers: { authorization: `Bearer ${env.CUBE_TOKEN}` } });
      expect(`${path}: ${res.status}`).toBe(`${path}: 200`);
      answers.push(await res.text());
    };
    for (const path of ["/v1/jobs", `/v1/jobs/${job}`, `/v1/jobs/${job}/versions`, `/v1/tasks?job=${job}`, "/v1/nodes", "/v1/events/history", "/v1/secrets", "/v1/secrets/db_password", "/v1/snapshot", "/metrics", `/ui/jobs/${job}`]) await get(path);
    for (const task of detail.tasks) {
      await get(`/v1/tasks/${task.id}`);
      await get(`/v1/tasks/${task.id}/logs`);
    }
    answers.push((await cubeWith("", ["job", "inspect", job], env)).stdout, (await cubeWith("", ["secret", "list"], env)).stdout);
    for (const answer of answers) for (const value of [password, token]) for (const form of forms(value)) expect(answer).not.toContain(form);

    // The raw files of every data dir (the SQLite database and its write-ahead log, the workers'), and every process's log.
    const files = rawFiles(cluster.dataDir);
    expect(files.map((f) => f.path)).toContainEqual(expect.stringMatching(/cube\.db-wal$/));
    for (const { path, bytes } of files) for (const value of [password, token]) for (const form of forms(value)) expect(`${path}: ${bytes.includes(form)}`).toBe(`${path}: false`);
    for (const name of ["manager", "sec1", "sec2"]) for (const value of [password, token]) expect(cluster.outputOf(name)).not.toContain(value);
  }, 120_000);

  test("a worker's credential cannot fetch the secrets of a task assigned to another node", async () => {
    const detail = await cluster.client.getJob(job);
    const [first, second] = nodeIds as [string, string];
    const taskOnSecond = live(detail).find((t) => t.nodeId === second) as TaskView;
    const credentialOf = (name: string) => readFileSync(join(cluster.dataDir, "workers", name, `worker-${name}`, "credential"), "utf8").trim();
    const fetchAs = (worker: string, nodeId: string, taskId: string) =>
      fetch(`${env.CUBE_ADDR}/v1/nodes/${nodeId}/tasks/${taskId}/secrets`, { headers: { authorization: `Bearer ${credentialOf(worker)}` } });

    const ownPath = await fetchAs("sec1", first, taskOnSecond.id);
    expect(ownPath.status).toBe(403);
    expect(await ownPath.text()).not.toContain(Buffer.from(password).toString("base64"));
    expect((await fetchAs("sec1", second, taskOnSecond.id)).status).toBe(403);
    const admin = await fetch(`${env.CUBE_ADDR}/v1/nodes/${second}/tasks/${taskOnSecond.id}/secrets`, { headers: { authorization: `Bearer ${env.CUBE_TOKEN}` } });
    expect(admin.status).toBe(403);
    // The task's own worker does get them.
    const own = await fetchAs("sec2", second, taskOnSecond.id);
    expect(own.status).toBe(200);
    expect(await own.text()).toContain(Buffer.from(password).toString("base64"));
  });

  test("a new value rolls the service onto it under its update rules, one task at a time; the old tasks' values leave the workers", async () => {
    const before = live(await cluster.client.getJob(job));
    const put = await cubeWith(newPassword, ["secret", "put", "db_password", "-"], env);
    expect(put.stdout).toBe(`secret db_password changed to version 2\nrolling job ${job} onto it (cube status JOB shows how far)\n`);
    const detail = await jobWhen(cluster.client, job, "both tasks replaced by version 2", (j) => j.version === 2 && live(j).length === 2 && live(j).every((t) => t.jobVersion === 2), 90_000);
    for (const task of live(detail)) expect(await cat(task, "/run/secrets/db_password")).toBe(newPassword);
    // max_parallel 1, min_healthy_time 1s: the second replacement was made only once the first had run for a second.
    const [a, b] = live(detail).sort((x, y) => x.createdAt - y.createdAt) as [TaskView, TaskView];
    expect(b.createdAt).toBeGreaterThanOrEqual((a.startedAt as number) + 1_000);
    const history = await cluster.client.jobVersions(job);
    expect(history[0]).toMatchObject({ version: 2, reason: "secret db_password changed to version 2" });
    for (const old of before) {
      await waitFor(`the values of replaced task ${old.name} to leave its worker`, () => (existsSync(join(DEFAULT_SECRETS_DIR, old.nodeId as string, old.id)) ? undefined : true), 20_000);
    }
  }, 120_000);

  test("after a keyring rotation every secret still opens: a replaced task gets the current values", async () => {
    const rotated = await cubeWith("", ["keyring", "rotate"], env);
    // db_password keeps versions 1 and 2 (job version 1 still names 1), api_token its one.
    expect(rotated.stdout).toMatch(/^keyring rotated: data key k[0-9a-f]{12} seals 3 secret versions now\n$/);
    const victim = live(await cluster.client.getJob(job))[0] as TaskView;
    await cluster.client.stopTask(victim.id);
    const detail = await jobWhen(cluster.client, job, "the stopped task replaced", (j) => live(j).length === 2 && !live(j).some((t) => t.id === victim.id), 60_000);
    const replacement = live(detail).find((t) => t.index === victim.index) as TaskView;
    expect(await cat(replacement, "/run/secrets/db_password")).toBe(newPassword);
    expect(await cat(replacement, "/etc/app/token")).toBe(token);
  }, 90_000);

  test("a secret in use cannot be removed; once its job stops, its values leave the workers and it can be", async () => {
    const refused = await cubeWith("", ["secret", "rm", "db_password"], env);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toBe(`error: secret db_password is used by job ${job}: stop them (cube stop) or take the secret out of their job files first\n`);
    expect((await cubeWith("", ["stop", job], env)).exitCode).toBe(0);
    await jobWhen(cluster.client, job, "every task stopped", (j) => j.tasks.every((t) => t.state === "stopped" || t.state === "failed"), 30_000);
    for (const id of nodeIds) {
      await waitFor(`node ${id}'s secret values to be removed`, () => (readdirSync(join(DEFAULT_SECRETS_DIR, id)).length === 0 ? true : undefined), 20_000);
    }
    expect(await cubeWith("", ["secret", "rm", "db_password"], env)).toMatchObject({ exitCode: 0, stdout: "secret db_password removed\n" });
  }, 60_000);
});

describe("the key-encryption key at a manager's start", () => {
  const dir = mkdtempSync(join(tmpdir(), "cube-kek-"));
  const started: CubeProcess[] = [];
  const spawned: Subprocess[] = [];
  afterAll(async () => {
    for (const p of started) await p.stop("SIGKILL");
    for (const p of spawned) {
      p.kill("SIGKILL");
      await p.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a manager on `name`'s data dir; resolves with its address once it listens. */
  async function manager(name: string, args: string[] = []): Promise<{ proc: CubeProcess; env: Record<string, string> }> {
    const proc = new CubeProcess(["serve", "--role=manager", `--port=${freePort()}`, "--bind=127.0.0.1", `--data-dir=${join(dir, name)}`, ...args]);
    started.push(proc);
    const url = ((await proc.waitForOutput(/manager listening url=(\S+)/))[1] as string).replace(/\/$/, "");
    return { proc, env: { CUBE_ADDR: url, CUBE_TOKEN: managerTokens(join(dir, name)).management } };
  }

  /** A manager started with --unlock and `input` on its standard input; resolves once it listens. */
  async function managerWithInput(name: string, input: string): Promise<{ proc: Subprocess; env: Record<string, string> }> {
    const proc = Bun.spawn([CUBE_BINARY, "serve", "--role=manager", "--unlock", `--port=${freePort()}`, "--bind=127.0.0.1", `--data-dir=${join(dir, name)}`], { stdin: new Blob([input]), stdout: "ignore", stderr: "pipe" });
    spawned.push(proc);
    const reader = proc.stderr.getReader();
    const decoder = new TextDecoder();
    let output = "";
    while (!/manager listening url=\S+/.test(output)) {
      const next = await reader.read();
      if (next.done) throw new Error(`the manager exited (${await proc.exited}): ${output}`);
      output += decoder.decode(next.value);
    }
    // Keep reading, so the manager never blocks on a full pipe.
    void (async () => {
      while (!(await reader.read()).done);
    })();
    const url = (/manager listening url=(\S+)/.exec(output)?.[1] as string).replace(/\/$/, "");
    return { proc, env: { CUBE_ADDR: url, CUBE_TOKEN: managerTokens(join(dir, name)).management } };
  }

  /** A manager start that must fail: its exit code and what it said. */
  async function failedStart(name: string, args: string[] = [], input = ""): Promise<{ exitCode: number; stderr: string }> {
    const proc = Bun.spawn([CUBE_BINARY, "serve", "--role=manager", `--port=${freePort()}`, "--bind=127.0.0.1", `--data-dir=${join(dir, name)}`, ...args], { stdin: new Blob([input]), stdout: "pipe", stderr: "pipe" });
    spawned.push(proc);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    const [stderr, exitCode] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    return { exitCode, stderr };
  }

  /**
   * The files a failed start must leave as they were, byte for byte. SQLite's shared-memory index and
   * an empty write-ahead log come and go with any open of the database: they hold no data.
   */
  const snapshotOf = (name: string) =>
    Object.fromEntries(
      rawFiles(join(dir, name))
        .filter((f) => !f.path.endsWith("-shm") && !(f.path.endsWith("-wal") && f.bytes.length === 0))
        .map((f) => [f.path, f.bytes.toString("base64")]),
    );

  test("a missing or wrong keyring file: exit 1, a message that says what to do, nothing overwritten; the right one opens every secret", async () => {
    const first = await manager("files");
    expect((await cubeWith("the value", ["secret", "put", "db", "-"], first.env)).exitCode).toBe(0);
    await first.proc.stop();
    const keyFile = join(dir, "files", "keyring");
    const original = readFileSync(keyFile);

    rmSync(keyFile);
    const before = snapshotOf("files");
    const missing = await failedStart("files");
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain(`error: the cluster's secrets are sealed by a key-encryption key, and its file ${keyFile} is missing: copy the keyring file`);
    expect(snapshotOf("files")).toEqual(before);

    writeFileSync(keyFile, `${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}\n`, { mode: 0o600 });
    const wrongBefore = snapshotOf("files");
    const wrong = await failedStart("files");
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toContain(`error: the key-encryption key in ${keyFile} does not open the cluster's keyring`);
    expect(wrong.stderr).toContain("nothing was changed");
    expect(snapshotOf("files")).toEqual(wrongBefore);

    writeFileSync(keyFile, original);
    const again = await manager("files");
    // The current value again changes nothing: the manager opened it to compare.
    expect((await cubeWith("the value", ["secret", "put", "db", "-"], again.env)).stdout).toBe("secret db unchanged: the value is version 1's\n");
    await again.proc.stop();
  }, 60_000);

  test("--unlock: the passphrase is read from standard input; without it, or a wrong one: exit 1, nothing changed; the right one opens every secret", async () => {
    const passphrase = "a passphrase long enough";
    const first = await managerWithInput("phrase", `${passphrase}\n`);
    expect((await cubeWith("sealed by a passphrase", ["secret", "put", "db", "-"], first.env)).exitCode).toBe(0);
    expect(existsSync(join(dir, "phrase", "keyring"))).toBe(false);
    first.proc.kill("SIGTERM");
    await first.proc.exited;

    const before = snapshotOf("phrase");
    const withoutUnlock = await failedStart("phrase");
    expect(withoutUnlock.exitCode).toBe(1);
    expect(withoutUnlock.stderr).toContain("error: the cluster's secrets are sealed by a passphrase: start the manager with --unlock");
    const wrong = await failedStart("phrase", ["--unlock"], "not the passphrase at all\n");
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toContain("error: the passphrase does not open the cluster's keyring (mistyped?); nothing was changed");
    expect(snapshotOf("phrase")).toEqual(before);

    const again = await managerWithInput("phrase", `${passphrase}\n`);
    expect((await cubeWith("sealed by a passphrase", ["secret", "put", "db", "-"], again.env)).stdout).toBe("secret db unchanged: the value is version 1's\n");
    again.proc.kill("SIGTERM");
    await again.proc.exited;
  }, 60_000);
});
