import { beforeAll, describe, expect, test } from "bun:test";
import type { Hono } from "hono";
import { createManagerApp } from "../../src/api/manager-app.ts";
import { ROUTE_ROLES } from "../../src/api/route-roles.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { Manager } from "../../src/manager/manager.ts";
import type { JobDetail, RegisterRequest, RegisterResponse } from "../../src/model/api-types.ts";
import type { Token } from "../../src/model/token.ts";
import { openStore } from "../../src/store/index.ts";

/**
 * Who may call what (README.md, "Security"), checked against the real app without sockets: every
 * documented route with every kind of caller, then the worker's join protocol and the browser sign-in.
 */
const log = createLogger("test", "error");
let manager: Manager;
let app: Hono;
const secrets: Record<string, string | undefined> = {};
let nodeA = "";
let nodeB = "";
let taskOnA = "";

async function request(method: string, path: string, token?: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return app.request(path, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
}

/** The status, with the body dropped (event streams never end by themselves). */
async function statusOf(response: Promise<Response>): Promise<number> {
  const res = await response;
  await res.body?.cancel();
  return res.status;
}

const registration = (name: string, id?: string): RegisterRequest => ({
  ...(id ? { id } : {}),
  name,
  address: "http://127.0.0.1:1",
  datacenter: "dc1",
  labels: {},
  capacity: { cpu: 2, memory: 1024, disk: 1000 },
  version: "test",
});

async function join(name: string): Promise<RegisterResponse> {
  const res = await request("POST", "/v1/nodes/register", secrets.join, registration(name));
  expect(res.status).toBe(200);
  return (await res.json()) as RegisterResponse;
}

beforeAll(async () => {
  manager = new Manager({ store: openStore(":memory:"), log });
  app = createManagerApp({ manager, log, version: "test" });
  for (const role of ["read", "submit", "admin", "join"] as const) secrets[role] = manager.tokens.create(role, role).secret;
  const revoked = manager.tokens.create("admin", "revoked");
  manager.tokens.revoke(revoked.token.id);
  secrets.revoked = revoked.secret;
  const admin = secrets.admin as string;
  // Well-formed, but not the secret of any token.
  secrets.wrong = `${admin.slice(0, -4)}${admin.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
  secrets.garbage = "not-a-token";
  const a = await join("a");
  const b = await join("b");
  nodeA = a.node.id;
  nodeB = b.node.id;
  secrets.workerA = a.credential;
  secrets.workerB = b.credential;
  // One task, placed on node a (b is made ineligible for the moment).
  manager.setNodeEligibility(nodeB, false);
  expect(await statusOf(request("POST", "/v1/jobs", admin, { name: "web", tasks: [{ name: "main", image: "img" }] }))).toBe(201);
  manager.reconcileNow();
  manager.setNodeEligibility(nodeB, true);
  taskOnA = ((await (await request("GET", "/v1/jobs/web", admin)).json()) as JobDetail).tasks[0]?.id as string;
  expect(taskOnA).toBeTruthy();
});

type Needs = "public" | "read" | "submit" | "admin" | "join" | "node a";

/**
 * Every route as documented, each with a call that passes or fails only on who makes it: past the
 * check it answers 2xx, 400 (a body made to be refused), 404 (a name that does not exist) or 409
 * (the node's address answers nothing), and never changes anything that a later row relies on.
 */
const ROUTES: [method: string, path: () => string, needs: Needs, body?: unknown][] = [
  ["GET", () => "/v1/health", "public"],
  ["GET", () => "/v1/openapi.json", "public"],
  ["GET", () => "/ui/assets/app.css", "public"],
  ["GET", () => "/v1/jobs", "read"],
  ["GET", () => "/v1/jobs/web", "read"],
  ["GET", () => "/v1/jobs/web/versions", "read"],
  ["GET", () => "/v1/tasks", "read"],
  ["GET", () => `/v1/tasks/${taskOnA}`, "read"],
  ["GET", () => `/v1/tasks/${taskOnA}/logs`, "read"],
  ["GET", () => "/v1/nodes", "read"],
  ["GET", () => `/v1/nodes/${nodeA}`, "read"],
  ["GET", () => "/v1/events", "read"],
  ["GET", () => "/v1/events/history?limit=5", "read"],
  ["GET", () => "/metrics", "read"],
  ["GET", () => "/ui", "read"],
  ["GET", () => `/ui/nodes/${nodeA}`, "read"],
  ["GET", () => "/ui/api", "read"],
  ["GET", () => "/v1/secrets", "read"],
  ["GET", () => "/v1/secrets/no-such-secret", "read"],
  ["POST", () => "/v1/jobs", "submit", { name: "NOT VALID" }],
  ["DELETE", () => "/v1/jobs/no-such-job", "submit"],
  ["POST", () => "/v1/jobs/web/scale", "submit", { group: "main", count: -1 }],
  ["POST", () => "/v1/jobs/web/revert", "submit", { version: 0 }],
  ["POST", () => "/v1/tasks/no-such-task/stop", "submit"],
  ["POST", () => `/v1/tasks/${taskOnA}/restart`, "submit"],
  ["POST", () => `/v1/tasks/${taskOnA}/exec`, "submit", { command: [] }],
  ["POST", () => "/v1/nodes/no-such-node/drain", "admin"],
  ["POST", () => `/v1/nodes/${nodeA}/eligibility`, "admin", { eligible: "yes" }],
  ["GET", () => "/v1/tokens", "admin"],
  ["POST", () => "/v1/tokens", "admin", { role: "root", name: "x" }],
  ["DELETE", () => "/v1/tokens/000000000000", "admin"],
  ["PUT", () => "/v1/secrets/-not-a-name", "admin", "a value"],
  ["DELETE", () => "/v1/secrets/no-such-secret", "admin"],
  ["POST", () => "/v1/keyring/rotate", "admin"],
  ["POST", () => "/v1/nodes/register", "join", { name: "" }],
  ["POST", () => `/v1/nodes/${nodeA}/heartbeat`, "node a", { stats: "none" }],
  ["GET", () => `/v1/nodes/${nodeA}/assignments?wait=0s`, "node a"],
  ["POST", () => `/v1/nodes/${nodeA}/tasks`, "node a", { reports: [{ taskId: taskOnA, state: "exploded", message: "" }] }],
  ["GET", () => `/v1/nodes/${nodeA}/tasks/${taskOnA}/secrets`, "node a"],
];

const CALLERS = ["anonymous", "garbage", "wrong", "revoked", "read", "submit", "admin", "join", "workerA", "workerB"] as const;
type Caller = (typeof CALLERS)[number];
const RANK: Partial<Record<Caller | Needs, number>> = { read: 1, submit: 2, admin: 3 };

function expected(caller: Caller, needs: Needs): "allowed" | 401 | 403 {
  if (needs === "public") return "allowed";
  if (["anonymous", "garbage", "wrong", "revoked"].includes(caller)) return 401;
  if (needs === "node a") return caller === "workerA" ? "allowed" : 403;
  if (needs === "join") return caller === "join" || caller === "workerA" || caller === "workerB" ? "allowed" : 403;
  const rank = RANK[caller];
  return rank !== undefined && rank >= (RANK[needs] ?? 9) ? "allowed" : 403;
}

describe("every route with every caller", () => {
  for (const [method, path, needs, body] of ROUTES) {
    test(`${method} ${path().replace(/[0-9a-f-]{36}/g, ":id")} needs ${needs}`, async () => {
      for (const caller of CALLERS) {
        const status = await statusOf(request(method, path(), caller === "anonymous" ? undefined : secrets[caller], body));
        const want = expected(caller, needs);
        if (want === "allowed") expect([401, 403]).not.toContain(status);
        else expect(`${caller}: ${status}`).toBe(`${caller}: ${want}`);
        // Not even the proxied routes, whose node answers nothing, may answer a 5xx.
        expect(status).toBeLessThan(500);
      }
    });
  }

  test("every route the app serves has an entry in the route table", () => {
    const declared = (method: string, path: string) =>
      ROUTE_ROLES.some(([m, p]) => m === method && (p === path || (p.endsWith("/*") && path.startsWith(p.slice(0, -1)))));
    const missing = app.routes.filter((r) => r.method !== "ALL" && !declared(r.method, r.path)).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  test("a 401 says what to send and carries WWW-Authenticate; a 403 names the role needed", async () => {
    const anonymous = await request("GET", "/v1/jobs");
    expect(anonymous.headers.get("www-authenticate")).toContain("Bearer");
    expect(((await anonymous.json()) as { error: { message: string } }).error.message).toContain("Authorization: Bearer");
    const low = await request("POST", "/v1/jobs", secrets.read, { name: "x" });
    expect(low.status).toBe(403);
    expect(((await low.json()) as { error: { message: string } }).error.message).toContain("role submit or above; this token's role is read");
  });

  test("a submit token runs a job that a read token could not", async () => {
    const job = { name: "by-submit", tasks: [{ name: "main", image: "img", count: 0 }] };
    expect(await statusOf(request("POST", "/v1/jobs", secrets.read, job))).toBe(403);
    expect(await statusOf(request("POST", "/v1/jobs", secrets.submit, job))).toBe(201);
    expect(await statusOf(request("DELETE", "/v1/jobs/by-submit?purge=true", secrets.submit))).toBe(200);
  });
});

describe("tokens", () => {
  test("made, used and revoked over the API; lists never show a secret or its hash", async () => {
    const created = await request("POST", "/v1/tokens", secrets.admin, { role: "read", name: "dashboard" });
    expect(created.status).toBe(201);
    const { token, secret } = (await created.json()) as { token: Token; secret: string };
    expect(secret).toMatch(/^cube_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(await statusOf(request("GET", "/v1/nodes", secret))).toBe(200);
    const listed = await (await request("GET", "/v1/tokens", secrets.admin)).text();
    expect(listed).toContain('"name":"dashboard"');
    expect(listed).not.toContain(secret.slice(18));
    expect(listed).not.toMatch(/"hash"|[0-9a-f]{64}/);
    const revoked = (await (await request("DELETE", `/v1/tokens/${token.id}`, secrets.admin)).json()) as Token;
    expect(revoked.revokedAt).not.toBeNull();
    expect(await statusOf(request("GET", "/v1/nodes", secret))).toBe(401);
    expect(await statusOf(request("DELETE", "/v1/tokens/nonexistent", secrets.admin))).toBe(404);
  });

  test("`?token=` works for the event stream and logs only", async () => {
    expect(await statusOf(request("GET", `/v1/events?token=${secrets.read}`))).toBe(200);
    expect(await statusOf(request("GET", `/v1/jobs?token=${secrets.admin}`))).toBe(401);
    expect(await statusOf(request("POST", `/v1/jobs?token=${secrets.admin}`, undefined, { name: "x" }))).toBe(401);
  });
});

describe("workers", () => {
  test("registering needs the join token: none or a wrong one is 401, a user's token 403", async () => {
    expect(await statusOf(request("POST", "/v1/nodes/register", undefined, registration("c")))).toBe(401);
    expect(await statusOf(request("POST", "/v1/nodes/register", secrets.wrong, registration("c")))).toBe(401);
    expect(await statusOf(request("POST", "/v1/nodes/register", secrets.admin, registration("c")))).toBe(403);
    expect(manager.listNodes().items.map((n) => n.name)).toEqual(["a", "b"]);
  });

  test("the join token cannot take over a registered node; the node's own credential re-registers it, and only it", async () => {
    const takeover = await request("POST", "/v1/nodes/register", secrets.join, registration("a", nodeA));
    expect(takeover.status).toBe(403);
    const again = await request("POST", "/v1/nodes/register", secrets.workerA, registration("a", nodeA));
    expect(again.status).toBe(200);
    expect(((await again.json()) as RegisterResponse).credential).toBeUndefined();
    expect(await statusOf(request("POST", "/v1/nodes/register", secrets.workerA, registration("b", nodeB)))).toBe(403);
    expect(await statusOf(request("POST", "/v1/nodes/register", secrets.join, registration("odd", "a%62c")))).toBe(400);
  });

  test("a worker cannot heartbeat, watch or report for another node; a forged report leaves the task alone", async () => {
    const stats = { stats: { cpuPercent: 1, memoryUsedMb: 1, diskUsedMb: 1, at: 1 } };
    const report = { reports: [{ taskId: taskOnA, state: "failed", message: "forged", exitCode: 1 }] };
    expect(await statusOf(request("POST", `/v1/nodes/${nodeA}/heartbeat`, secrets.workerB, stats))).toBe(403);
    expect(await statusOf(request("GET", `/v1/nodes/${nodeA}/assignments?wait=0s`, secrets.workerB))).toBe(403);
    expect(await statusOf(request("POST", `/v1/nodes/${nodeA}/tasks`, secrets.workerB, report))).toBe(403);
    // Its own path, another node's task: the report is refused on its own.
    const foreign = await request("POST", `/v1/nodes/${nodeB}/tasks`, secrets.workerB, report);
    expect(foreign.status).toBe(200);
    expect(((await foreign.json()) as { results: unknown[] }).results).toEqual([
      { taskId: taskOnA, ok: false, error: { code: "conflict", message: `task ${taskOnA} is not placed on node ${nodeB}` } },
    ]);
    // An encoded path names the same node as the check saw.
    const encodedA = `%${nodeA.charCodeAt(0).toString(16)}${nodeA.slice(1)}`;
    expect(await statusOf(request("POST", `/v1/nodes/${encodedA}/heartbeat`, secrets.workerB, stats))).toBe(403);
    expect(await statusOf(request("POST", `/v1/nodes/${encodedA}/heartbeat`, secrets.workerA, stats))).toBe(200);
    expect(manager.getTask(taskOnA).state).toBe("scheduled");
    expect(await statusOf(request("POST", `/v1/nodes/${nodeA}/heartbeat`, secrets.workerA, stats))).toBe(200);
  });

  test("a worker cannot fetch the secrets of a task assigned to another node, even on its own path", async () => {
    const foreign = await request("GET", `/v1/nodes/${nodeB}/tasks/${taskOnA}/secrets`, secrets.workerB);
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { message: string } }).error.message).toBe(`task web.main.0 is not assigned to node ${nodeB}: a worker gets the secrets of its own tasks only`);
    expect(await statusOf(request("GET", `/v1/nodes/${nodeA}/tasks/${taskOnA}/secrets`, secrets.workerA))).toBe(200);
  });

  test("a revoked node credential stops working, and the join token does not bring the node back", async () => {
    const c = await join("c");
    const credential = c.credential as string;
    const id = manager.tokens.list().find((t) => t.role === "worker" && t.nodeId === c.node.id)?.id as string;
    expect(await statusOf(request("GET", `/v1/nodes/${c.node.id}/assignments?wait=0s`, credential))).toBe(200);
    expect(await statusOf(request("DELETE", `/v1/tokens/${id}`, secrets.admin))).toBe(200);
    expect(await statusOf(request("GET", `/v1/nodes/${c.node.id}/assignments?wait=0s`, credential))).toBe(401);
    expect(await statusOf(request("POST", "/v1/nodes/register", secrets.join, registration("c", c.node.id)))).toBe(403);
  });
});

describe("the dashboard in a browser", () => {
  test("without a token it shows a sign-in form; ?token= moves a valid token into an HttpOnly cookie", async () => {
    const page = await request("GET", "/ui/jobs");
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('<input name="token" type="password"');
    const signIn = await request("GET", `/ui/jobs?token=${secrets.read}`);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get("location")).toBe("/ui/jobs");
    const cookie = signIn.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^cube_token=cube_/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    const signedIn = await app.request("/ui/jobs", { headers: { cookie: cookie.split(";")[0] as string } });
    expect(signedIn.status).toBe(200);
    expect(await statusOf(request("GET", `/ui?token=${secrets.join}`))).toBe(401);
    expect(await statusOf(request("GET", `/ui?token=${secrets.revoked}`))).toBe(401);
  });

  test("a live-refresh fragment keeps the JSON 401 that the dashboard's script handles", async () => {
    const fragment = await request("GET", "/ui/jobs?fragment=1");
    expect(fragment.status).toBe(401);
    expect(fragment.headers.get("content-type")).toContain("application/json");
  });
});
