import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient, ApiClientError } from "../../src/client/api-client.ts";
import { createLogger } from "../../src/lib/logger.ts";
import type { JobView, NodeView, TaskView } from "../../src/model/api-types.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { type ManagerServer, startManagerServer } from "../../src/server/manager-server.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * The API's front thread (src/server/api-front.ts): a real manager on a SQLite file and a free port,
 * called over HTTP. Lists are answered by the front thread from its copy of the state; everything
 * else by the manager's thread. No Docker: nodes are registered by hand and run nothing.
 * The randomized test prints its seed; CUBE_FRONT_SEED=<seed> replays it.
 */
const SEED = process.env.CUBE_FRONT_SEED ?? String(Date.now());
const dir = mkdtempSync(join(tmpdir(), "cube-front-"));
let server: ManagerServer;
let admin: ApiClient;
let token = "";

beforeAll(async () => {
  server = await startManagerServer({ dataDir: join(dir, "manager"), port: 0, bind: "127.0.0.1", log: createLogger("test", "error"), heartbeatTtlMs: 60_000 });
  token = server.tokens.management?.secret ?? "";
  admin = new ApiClient(server.url, { token });
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const job = (name: string, count: number) => JSON.stringify({ name, type: "service", tasks: [{ name: "main", image: "cube-test/busybox:latest", count, resources: { cpu: 0.01, memory: 4 } }] });

async function register(name: string): Promise<{ nodeId: string; credential: string }> {
  const joiner = new ApiClient(server.url, { token: server.tokens.join.secret });
  const { node, credential } = await joiner.register({ name, address: "http://127.0.0.1:1", datacenter: "dc1", labels: {}, capacity: { cpu: 100, memory: 100_000, disk: 0 }, version: "test" });
  return { nodeId: node.id, credential: credential as string };
}

/** The manager's own answers (its thread, in this process), as the API would send them. */
const direct = () => JSON.parse(JSON.stringify({ jobs: server.manager.listJobs().items, tasks: server.manager.listTasks({}).items, nodes: server.manager.listNodes().items }));

async function overHttp(): Promise<{ jobs: JobView[]; tasks: TaskView[]; nodes: NodeView[] }> {
  return { jobs: await admin.listJobs(), tasks: await admin.listTasks(), nodes: await admin.listNodes() };
}

describe("the API's front thread", () => {
  test("answers a list while the manager's thread is busy; a request it passes on waits for that thread", async () => {
    await admin.submitJob(job("busy", 3), "json");
    const curl = (path: string) =>
      Bun.spawn(["sh", "-c", `sleep 0.3; curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'Authorization: Bearer ${token}' '${server.url}${path}'`], { stdout: "pipe" });
    const list = curl("/v1/tasks?limit=10");
    const health = curl("/v1/health");
    // The manager's thread is this test's: hold it for 1.5 s while the requests are sent (at 0.3 s).
    const until = performance.now() + 1500;
    while (performance.now() < until) {
      // busy
    }
    const [listStatus, listSeconds] = (await new Response(list.stdout).text()).split(" ");
    const [healthStatus, healthSeconds] = (await new Response(health.stdout).text()).split(" ");
    expect({ listStatus, healthStatus }).toEqual({ listStatus: "200", healthStatus: "200" });
    expect(Number(listSeconds)).toBeLessThan(0.5);
    expect(Number(healthSeconds)).toBeGreaterThan(0.8);
  });

  test("runs ahead of the manager's thread: nice -20 where the process may raise a priority (root), else the process's", () => {
    const nice = readdirSync("/proc/self/task").map((tid) => Number(readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]?.split(" ")[16]));
    expect(Math.min(...nice)).toBe(process.getuid?.() === 0 ? -20 : 0);
  });

  test("a token revoked is refused on a list at once; a worker's credential may not list", async () => {
    const issued = await admin.createToken("read", "front-test");
    const reader = new ApiClient(server.url, { token: issued.secret });
    expect(Array.isArray(await reader.listJobs())).toBe(true);
    await admin.revokeToken(issued.token.id);
    const refused = await reader.listJobs().catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApiClientError);
    expect((refused as ApiClientError).status).toBe(401);

    const { credential } = await register("front-worker-cred");
    const worker = await new ApiClient(server.url, { token: credential }).listTasks().catch((err: unknown) => err);
    expect((worker as ApiClientError).status).toBe(403);
  });

  test("bad list parameters are a 400 naming the parameter; an unknown node filter a 404", async () => {
    const bad = await fetch(`${server.url}/v1/tasks?state=bogus`, { headers: { authorization: `Bearer ${token}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("query parameter state");
    const unknown = await fetch(`${server.url}/v1/tasks?node=no-such-node`, { headers: { authorization: `Bearer ${token}` } });
    expect(unknown.status).toBe(404);
    const limit = await fetch(`${server.url}/v1/nodes?limit=0`, { headers: { authorization: `Bearer ${token}` } });
    expect(limit.status).toBe(400);
  });

  test("the lists it answers are counted in the manager's request metrics", async () => {
    const count = async () => {
      const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      return Number(/^cube_api_request_duration_seconds_count\{method="GET",route="\/v1\/nodes",status="200"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const before = await count();
    for (let i = 0; i < 3; i++) await admin.listNodes();
    await waitFor("three lists of nodes counted", async () => ((await count()) >= before + 3 ? true : undefined), 5_000);
  });

  test(`random writes, each read back from the front at once; afterwards the front's lists equal the manager's (seed ${SEED})`, async () => {
    console.log(`[front] seed ${SEED} (replay: CUBE_FRONT_SEED=${SEED})`);
    const random = seededRandom(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const names = ["r-a", "r-b", "r-c", "r-d"];
    // A node for each name: a step writes to its name's job or to its name's node.
    const nodes = new Map<string, { nodeId: string }>();
    for (const name of names) nodes.set(name, await register(`${name}-node`));
    const refused = (err: unknown) => err instanceof ApiClientError && err.status >= 400 && err.status < 500;
    /** One random write, then lists read at once: each shows the write. */
    const step = async (name: string): Promise<string> => {
      const kind = pick(["submit", "submit", "scale", "stop", "purge", "drain", "eligible"] as const);
      if (kind === "submit") {
        const count = Math.floor(random() * 40);
        const { job: stored } = await admin.submitJob(job(name, count), "json");
        const seen = (await admin.listJobs()).find((j) => j.name === name);
        expect({ kind, name, version: seen && seen.version >= stored.version }).toEqual({ kind, name, version: true });
      } else if (kind === "scale") {
        const count = Math.floor(random() * 40);
        const result = await admin.scaleJob(name, "main", count).catch((err: unknown) => (refused(err) ? null : Promise.reject(err)));
        if (result) expect({ kind, name, version: ((await admin.listJobs()).find((j) => j.name === name)?.version ?? 0) >= result.job.version }).toEqual({ kind, name, version: true });
      } else if (kind === "stop" || kind === "purge") {
        const stopped = await admin.stopJob(name, kind === "purge").catch((err: unknown) => (refused(err) ? null : Promise.reject(err)));
        const seen = (await admin.listJobs()).find((j) => j.name === name);
        if (stopped && kind === "purge") expect({ kind, name, seen: seen?.status }).toEqual({ kind, name, seen: undefined });
        if (stopped && kind === "stop") expect({ kind, name, seen: seen?.status }).toEqual({ kind, name, seen: "stopped" });
      } else {
        const node = nodes.get(name) as { nodeId: string };
        const after = kind === "drain" ? await admin.drainNode(node.nodeId).catch((err: unknown) => (refused(err) ? null : Promise.reject(err))) : await admin.setNodeEligibility(node.nodeId, random() < 0.5);
        const seen = (await admin.listNodes()).find((n) => n.id === node.nodeId);
        if (after) expect({ kind, status: seen?.status, eligible: seen?.eligible }).toEqual({ kind, status: after.status, eligible: after.eligible });
      }
      return `${kind} ${name}`;
    };
    const done: string[] = [];
    for (let round = 0; round < 25; round++) {
      // A few writes at once, with random pauses between them.
      // Each to its own job and node, so what a write's reader sees is that write's doing.
      const jobs = [...names].sort(() => random() - 0.5).slice(0, 1 + Math.floor(random() * names.length));
      const writes = jobs.map(async (name) => {
        await Bun.sleep(Math.floor(random() * 20));
        return step(name);
      });
      done.push(...(await Promise.all(writes)));
    }
    // Quiet: the evaluations the writes started finish, then the copy has what memory has.
    let last: unknown;
    const settled = await waitFor(
      `the front's lists equal the manager's after ${done.length} writes`,
      async () => {
        const mine = direct();
        last = await overHttp();
        return Bun.deepEquals(last, mine) ? true : undefined;
      },
      10_000,
    ).catch(() => false);
    if (!settled) expect(last).toEqual(direct());
    const lists = await overHttp();
    expect(lists.jobs.length + lists.nodes.length).toBeGreaterThan(2);
  }, 60_000);

  test("a port already in use is an error that says so, and leaves no thread behind", async () => {
    const taken = new URL(server.url).port;
    // Threads named Worker: a manager's front thread, and its SQLite checkpointer's.
    const workerThreads = () => readdirSync("/proc/self/task").filter((tid) => readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim() === "Worker").length;
    const threads = workerThreads();
    const failed = await startManagerServer({ dataDir: join(dir, "second"), port: Number(taken), bind: "127.0.0.1", log: createLogger("test", "error") }).catch((err: Error) => err);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toContain(`cannot listen on 127.0.0.1:${taken}: the port is already in use`);
    await waitFor("the second front thread gone", () => (workerThreads() <= threads ? true : undefined), 5_000);
  });
});
