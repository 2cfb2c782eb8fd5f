import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Hono } from "hono";
import { createManagerApp } from "../../src/api/manager-app.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { Manager } from "../../src/manager/manager.ts";
import type { JobDetail, RegisterRequest } from "../../src/model/api-types.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { BodyFuzzer } from "../support/body-fuzzer.ts";
import { TestTokens } from "../support/test-tokens.ts";

/**
 * Every write route gets random and mutated bodies (src: test/support/body-fuzzer.ts), replayable
 * from SEED. Nothing may answer 5xx, and what was stored before is exactly what is stored after.
 *
 * Most routes are aimed at a job, task, node or token that does not exist, so their bodies are
 * validated (400) and a valid one is refused (404) without changing anything. Four routes create
 * by design — POST /v1/jobs, /v1/tokens and /v1/nodes/register, and PUT /v1/secrets/fuzzed (any
 * bytes are a secret's value) — and a mutated body may be valid: what they created (named in their
 * 2xx answers; the secret is no job's) is set aside, and everything else must be unchanged.
 */
const SEED = process.env.CUBE_FUZZ_SEED ?? "cube-fuzz-1";
const BODIES_PER_ROUTE = 700;
const log = createLogger("fuzz", "error");

let store: Store;
let manager: Manager;
let app: Hono;
let tokens: TestTokens;
let fakeWorker: ReturnType<typeof Bun.serve>;
let nodeA = "";
let taskOnA = "";

const registration = (name: string, address: string): RegisterRequest => ({ name, address, datacenter: "dc1", labels: { rack: "r1" }, capacity: { cpu: 2, memory: 1024, disk: 1000 }, version: "test" });
const validJob = { name: "fuzzed", type: "service", tasks: [{ name: "main", image: "img", command: ["sleep", "1"], count: 2, env: { A: "1" }, labels: { tier: "web" }, resources: { cpu: 0.1, memory: 32, disk: 0 }, ports: [{ name: "http", container: 80 }], restart: { attempts: 1, delay: "1s" } }] };

beforeAll(async () => {
  // Stands in for workers, so proxied routes (exec, restart) reach something that answers.
  fakeWorker = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ exitCode: 0, output: "" }) });
  store = openStore(":memory:");
  // A fixed clock: nothing changes by time alone (a token's last use, a heartbeat's age).
  manager = new Manager({ store, log, now: () => 1_000_000, maxTasksPerJob: 20 });
  app = createManagerApp({ manager, log, version: "test" });
  tokens = new TestTokens(manager.tokens);
  for (const name of ["a", "b"]) {
    const res = await app.request("/v1/nodes/register", { method: "POST", headers: { ...tokens.headers("/v1/nodes/register"), "content-type": "application/json" }, body: JSON.stringify(registration(name, `http://127.0.0.1:${fakeWorker.port}`)) });
    const { node, credential } = (await res.json()) as { node: { id: string }; credential: string };
    tokens.remember(node.id, credential);
    if (name === "a") nodeA = node.id;
  }
  manager.setNodeEligibility(nodeA, true);
  const submitted = await app.request("/v1/jobs", { method: "POST", headers: { ...tokens.headers("/v1/jobs"), "content-type": "application/json" }, body: JSON.stringify({ ...validJob, name: "web" }) });
  expect(submitted.status).toBe(201);
  manager.reconcileNow();
  const web = (await (await app.request("/v1/jobs/web", { headers: tokens.headers("/v1/jobs/web") })).json()) as JobDetail;
  taskOnA = web.tasks.find((t) => t.nodeId === nodeA)?.id ?? (web.tasks[0]?.id as string);
  // Every token used once before the snapshot, so its last use is already recorded.
  for (const path of ["/v1/jobs", `/v1/nodes/ghost/heartbeat`, `/v1/nodes/${nodeA}/tasks`]) await app.request(path, { method: "POST", headers: tokens.headers(path), body: "{" });
});

afterAll(() => {
  manager.stop();
  fakeWorker.stop(true);
});

/** Everything stored, less what the fuzz created by design. */
function snapshot(created: { jobs: Set<string>; nodes: Set<string>; tokens: Set<string> }) {
  return {
    jobs: store.listJobs().filter((j) => !created.jobs.has(j.spec.name)).map((j) => ({ ...j, versions: store.listJobVersions(j.spec.name) })),
    tasks: store.listTasks().filter((t) => !created.jobs.has(t.job)).map((t) => ({ ...t, events: store.listTaskEvents(t.id) })),
    nodes: store.listNodes().filter((n) => !created.nodes.has(n.id)),
    tokens: store.listTokens().filter((t) => !created.tokens.has(t.id) && !(t.nodeId !== null && created.nodes.has(t.nodeId))),
  };
}

interface Target {
  method: string;
  path: () => string;
  seed: unknown;
  yaml?: boolean;
}

const TARGETS: Target[] = [
  { method: "POST", path: () => "/v1/jobs", seed: validJob },
  { method: "POST", path: () => "/v1/jobs", seed: validJob, yaml: true },
  { method: "POST", path: () => "/v1/plan", seed: validJob },
  { method: "POST", path: () => "/v1/jobs/no-such-job/scale", seed: { group: "main", count: 3 } },
  { method: "POST", path: () => "/v1/jobs/no-such-job/revert", seed: { version: 1 } },
  { method: "DELETE", path: () => "/v1/jobs/no-such-job?purge=true", seed: {} },
  { method: "POST", path: () => "/v1/tasks/no-such-task/stop", seed: {} },
  { method: "POST", path: () => `/v1/tasks/${taskOnA}/exec`, seed: { command: ["echo", "hi"], timeoutMs: 1000 } },
  { method: "POST", path: () => `/v1/tasks/${taskOnA}/restart`, seed: {} },
  { method: "POST", path: () => "/v1/nodes/no-such-node/drain", seed: {} },
  { method: "POST", path: () => "/v1/nodes/no-such-node/eligibility", seed: { eligible: false } },
  { method: "POST", path: () => "/v1/tokens", seed: { role: "read", name: "fuzz" } },
  { method: "DELETE", path: () => "/v1/tokens/000000000000", seed: {} },
  { method: "PUT", path: () => "/v1/secrets/fuzzed", seed: { any: "bytes are a value" } },
  { method: "DELETE", path: () => "/v1/secrets/no-such-secret", seed: {} },
  { method: "DELETE", path: () => "/v1/volumes/no-such-job/data", seed: {} },
  { method: "POST", path: () => "/v1/nodes/register", seed: registration("fuzz-node", "http://127.0.0.1:1") },
  { method: "POST", path: () => "/v1/nodes/ghost/heartbeat", seed: { stats: { cpuPercent: 1, memoryUsedMb: 1, diskUsedMb: 1, at: 1 } } },
  { method: "POST", path: () => `/v1/nodes/${nodeA}/tasks`, seed: { reports: [{ taskId: "no-such-task", state: "running", message: "ok", containerId: "c", hostPorts: { http: 1 }, exitCode: null, restarts: 0, health: null }] } },
];

test(`${TARGETS.length * BODIES_PER_ROUTE} fuzzed bodies over every write route: no 5xx, nothing stored changes (seed ${SEED})`, async () => {
  const fuzz = new BodyFuzzer(seededRandom(SEED));
  const created = { jobs: new Set<string>(), nodes: new Set<string>(), tokens: new Set<string>() };
  const before = snapshot(created);
  const statuses = new Map<number, number>();
  const serverErrors: string[] = [];
  let sent = 0;
  for (const target of TARGETS) {
    const path = target.path();
    for (let i = 0; i < BODIES_PER_ROUTE; i++) {
      const body = fuzz.text(target.seed, target.yaml ?? false);
      const headers = { ...tokens.headers(path), "content-type": target.yaml ? "application/yaml" : "application/json" };
      const res = await app.request(path, { method: target.method, headers, body });
      sent++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const text = await res.text();
      if (res.status >= 500) serverErrors.push(`${target.method} ${path} → ${res.status} ${text.slice(0, 200)} for ${body.slice(0, 200)}`);
      if (res.status < 300) {
        const answer = JSON.parse(text) as { job?: { name: string }; created?: boolean; token?: { id: string }; node?: { id: string } };
        if (path === "/v1/jobs" && answer.job) created.jobs.add(answer.job.name);
        if (path === "/v1/tokens" && answer.token) created.tokens.add(answer.token.id);
        if (path === "/v1/nodes/register" && answer.node) created.nodes.add(answer.node.id);
      }
      // Errors are for people and programs, never internals.
      if (res.status >= 400) expect(text).not.toMatch(/\s+at \S+ \(|\.(ts|js|tsx):\d+|node_modules/);
    }
  }
  manager.reconcileNow();
  console.log(`[fuzz] seed ${SEED}: ${sent} bodies; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}; created by design: ${created.jobs.size} jobs, ${created.tokens.size} tokens, ${created.nodes.size} nodes`);
  expect(sent).toBeGreaterThanOrEqual(10_000);
  expect(serverErrors).toEqual([]);
  expect(snapshot(created)).toEqual(before);
  expect((await app.request("/v1/health")).status).toBe(200);
}, 300_000);
