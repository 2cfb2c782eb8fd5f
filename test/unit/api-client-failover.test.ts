import { afterAll, expect, test } from "bun:test";
import { ApiClient, ApiClientError } from "../../src/client/api-client.ts";
import { ApiHarness } from "./api-harness.ts";

/** Real sockets on port 0: one manager that answers, one that takes requests and never answers, and a port nobody listens on. */
const served: { url: string; hits: string[]; stop: () => void }[] = [];
function serve(handle: (req: Request) => Promise<Response>) {
  const hits: string[] = [];
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => (hits.push(`${req.method} ${new URL(req.url).pathname}`), handle(req)) });
  const entry = { url: `http://127.0.0.1:${server.port}`, hits, stop: () => server.stop(true) };
  served.push(entry);
  return entry;
}
afterAll(() => {
  for (const s of served) s.stop();
});

const answering = () => serve(async () => Response.json({ managers: [], job: { name: "web" }, created: false, changed: false }));
const silent = () => serve(() => new Promise<Response>(() => {}));
function closedPort(): string {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const url = `http://127.0.0.1:${s.port}`;
  s.stop(true);
  return url;
}

test("a manager that refuses the connection is skipped at once, for any request; the client stays with the one that answered", async () => {
  const good = answering();
  const moves: string[] = [];
  const client = new ApiClient(`${closedPort()},${good.url}`, { onFailover: (_from, to) => moves.push(to) });
  await client.scaleJob("web", "main", 3);
  await client.managers();
  expect(good.hits).toEqual(["POST /v1/jobs/web/scale", "GET /v1/managers"]);
  expect(moves).toEqual([good.url]);
  expect(client.base).toBe(good.url);
});

test("an idempotent request (a submit) that gets no answer in time goes to the next manager", async () => {
  const hung = silent();
  const good = answering();
  const client = new ApiClient(`${hung.url},${good.url}`, { timeoutMs: 300 });
  await client.submitJob("name: web", "yaml");
  expect(hung.hits).toEqual(["POST /v1/jobs"]);
  expect(good.hits).toEqual(["POST /v1/jobs"]);
});

test("a scale whose fate is unknown is not sent again: the error says it may have been applied, and the next call goes elsewhere", async () => {
  const hung = silent();
  const good = answering();
  const client = new ApiClient(`${hung.url},${good.url}`, { timeoutMs: 300 });
  const err = await client.scaleJob("web", "main", 3).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApiClientError);
  expect((err as ApiClientError).code).toBe("unknown_outcome");
  expect((err as Error).message).toMatch(/may or may not have been applied/);
  expect(good.hits).toEqual([]);
  await client.managers();
  expect(good.hits).toEqual(["GET /v1/managers"]);
});

test("a write refused because managers raced (nothing stored) is sent again in a moment; any other conflict is not", async () => {
  const answers = [
    Response.json({ error: { code: "write_conflict", message: "another manager changed the same records first" } }, { status: 409 }),
    Response.json({ error: { code: "reloading", message: "this manager takes no writes until it has read etcd again" } }, { status: 503 }),
    Response.json({ job: { name: "web" } }),
    Response.json({ error: { code: "conflict", message: "job web is stopped: submit it again to scale it" } }, { status: 409 }),
  ];
  const racing = serve(async () => answers.shift() as Response);
  const client = new ApiClient(racing.url);
  await client.scaleJob("web", "main", 3);
  expect(racing.hits).toEqual(["POST /v1/jobs/web/scale", "POST /v1/jobs/web/scale", "POST /v1/jobs/web/scale"]);
  const err = await client.scaleJob("web", "main", 3).catch((e: unknown) => e);
  expect((err as ApiClientError).code).toBe("conflict");
  expect(racing.hits).toHaveLength(4);
});

test("GET /v1/managers with SQLite: one manager, the leader", async () => {
  const h = new ApiHarness();
  const res = await h.call("GET", "/v1/managers");
  expect(res.status).toBe(200);
  const { managers } = (await res.json()) as { managers: { name: string; leader: boolean }[] };
  expect(managers.map((m) => [m.name, m.leader])).toEqual([["manager", true]]);
});
