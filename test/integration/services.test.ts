import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ServiceView, TaskView } from "../../src/model/api-types.ts";
import { requireDocker, TEST_IMAGE } from "../support/docker.ts";
import { type LocalCluster, startLocalCluster, uniqueJobName } from "../support/local-cluster.ts";
import { jobWhen, waitFor } from "../support/wait-for.ts";

/**
 * Services across nodes, for real: three workers in this process (each its own network, DNS server
 * and service proxies on one engine, as in `cube dev`), worker dev-1 running the ingress.
 */
let lc: LocalCluster;
/** Job A: a client container on dev-1 that fetches services by name. */
const clientJob = uniqueJobName("client");
let clientTask = "";

/** Enough cpu that the engine's quota does not hold answers back (0.01 of a core adds ~100 ms to each). */
const web = { cpu: 0.2, memory: 16 };
const SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

/**
 * httpd answering `/` with "<label> says <hostname>" (the container's id), `/health` while the file
 * exists, and `/cgi-bin/xff` with the X-Forwarded-For it was sent.
 */
function webCommand(label: string, healthy = true): string[] {
  const script = [
    "mkdir -p /tmp/www/cgi-bin",
    `echo "${label} says $HOSTNAME" > /tmp/www/index.html`,
    healthy ? "echo ok > /tmp/www/health" : "true",
    `printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho "$HTTP_X_FORWARDED_FOR"\\n' > /tmp/www/cgi-bin/xff`,
    "chmod +x /tmp/www/cgi-bin/xff",
    "exec httpd -f -p 8080 -h /tmp/www",
  ];
  return ["sh", "-c", script.join("; ")];
}

const http = { ports: [{ name: "http", container: 8080 }], health: { http: "/health", port: "http", interval: "500ms", timeout: "1s", failures: 3 } };

async function submit(job: unknown): Promise<void> {
  await lc.client.submitJob(JSON.stringify(job), "json");
}

function serviceWhen(name: string, what: string, done: (s: ServiceView) => boolean, timeoutMs = 60_000): Promise<ServiceView> {
  return waitFor(what, async () => {
    const service = await lc.client.getService(name);
    return done(service) ? service : undefined;
  }, timeoutMs);
}

const serving = (s: ServiceView) => s.endpoints.filter((e) => e.healthy && !e.stopping);

/** One fetch from inside the client container (busybox's static wget crashes with -T, so timeout(1) bounds it). */
async function fetchInClient(url: string): Promise<{ ok: boolean; body: string }> {
  try {
    const { exitCode, output } = await lc.client.exec(clientTask, ["sh", "-c", `rm -f /tmp/answer; timeout 5 wget -q -O /tmp/answer ${url} && cat /tmp/answer`], 10_000);
    return { ok: exitCode === 0, body: output.trim() };
  } catch (err) {
    return { ok: false, body: (err as Error).message };
  }
}

beforeAll(async () => {
  await requireDocker();
  lc = await startLocalCluster(3, 10_000, { ingress: true });
  await submit({ name: clientJob, tasks: [{ name: "main", image: TEST_IMAGE, command: SLEEPER, resources: web, constraints: [{ attribute: "node.name", value: "dev-1" }] }] });
  const job = await jobWhen(lc.client, clientJob, "the client running", (j) => j.tasks.some((t) => t.state === "running"));
  clientTask = (job.tasks[0] as TaskView).id;
});

afterAll(async () => {
  await lc?.close();
});

describe("services by name in containers", () => {
  test("a client on another node reaches B.service.cube:8080; B's node is drained, one replica at a time, and no request fails", async () => {
    const b = uniqueJobName("b");
    await lc.client.setNodeEligibility("dev-3", false);
    await submit({
      name: b,
      tasks: [{ name: "web", image: TEST_IMAGE, command: webCommand(b), count: 2, resources: web, ...http, services: [{ name: b, port: "http", tags: ["v1"] }], update: { max_parallel: 1, min_healthy_time: "1s" }, constraints: [{ attribute: "node.name", operator: "!=", value: "dev-1" }] }],
    });
    const before = await serviceWhen(b, "2 endpoints of B healthy on dev-2", (s) => serving(s).length === 2);
    expect(before.endpoints.map((e) => e.node)).toEqual(["dev-2", "dev-2"]);
    expect(before.tags).toEqual(["v1"]);
    await lc.client.setNodeEligibility("dev-3", true);

    const url = `http://${b}.service.cube:8080/`;
    const first = await fetchInClient(url);
    expect(first).toMatchObject({ ok: true });
    expect(first.body).toStartWith(`${b} says `);

    await lc.client.drainNode("dev-2");
    // Requests all along the move, until B runs on dev-3 only (its old replicas gone).
    // Each answer with when it came and the endpoints the manager listed right after (to tell a failure's moment).
    const during: { ok: boolean; body: string; atMs: number; tookMs: number; endpoints: string }[] = [];
    const drainedAt = Date.now();
    await waitFor("B's replicas moved to dev-3", async () => {
      const sent = Date.now();
      const answer = await fetchInClient(url);
      const now = await lc.client.getService(b);
      const endpoints = now.endpoints.map((e) => `${e.name}@${e.node}${e.healthy ? "" : " unhealthy"}${e.stopping ? " stopping" : ""}`).join(", ");
      during.push({ ...answer, atMs: sent - drainedAt, tookMs: Date.now() - sent, endpoints });
      return now.endpoints.length === 2 && now.endpoints.every((e) => e.node === "dev-3" && e.healthy && !e.stopping) ? true : undefined;
    }, 60_000, 0);
    expect(during.filter((r) => !r.ok)).toEqual([]);
    const newHosts = (await lc.client.listTasks({ job: b })).filter((t) => t.nodeName === "dev-3" && t.state === "running").map((t) => (t.containerId as string).slice(0, 12));
    expect(newHosts).toHaveLength(2);
    const after = [];
    for (let i = 0; i < 5; i++) after.push(await fetchInClient(url));
    expect(after.filter((r) => !newHosts.some((h) => r.body === `${b} says ${h}`))).toEqual([]);
  });

  test("a replica whose health check fails gets no traffic; the requests still succeed", async () => {
    const c = uniqueJobName("c");
    const service = [{ name: c, port: "http" }];
    await submit({
      name: c,
      tasks: [
        { name: "good", image: TEST_IMAGE, command: webCommand("good"), resources: web, ...http, services: service },
        // Its checks fail for as long as the test runs without reaching the count that restarts it (engine churn would only slow the test).
        { name: "bad", image: TEST_IMAGE, command: webCommand("bad", false), resources: web, ...http, health: { ...http.health, failures: 100 }, services: service },
      ],
    });
    const seen = await serviceWhen(c, "the good replica healthy and the bad one running, not healthy", (s) => serving(s).length === 1 && s.endpoints.some((e) => e.name.startsWith(`${c}.bad.`) && !e.healthy));
    expect(serving(seen)[0]?.name).toBe(`${c}.good.0`);
    const url = `http://${c}.service.cube:8080/`;
    // The catalog reaches dev-1's DNS server and proxies a moment after the manager shows it.
    await waitFor("c reachable by name from dev-1", async () => ((await fetchInClient(url)).ok ? true : undefined), 20_000, 0);
    for (let i = 0; i < 10; i++) {
      const r = await fetchInClient(url);
      expect(r).toMatchObject({ ok: true, body: expect.stringMatching(/^good says /) });
    }
    // The container's resolver is dev-1's DNS server, which answers the service's address there; an unknown service does not resolve.
    const lookup = await lc.client.exec(clientTask, ["sh", "-c", `nslookup ${c}.service.cube; nslookup nope-${c}.service.cube || echo unknown-fails`], 10_000);
    expect(lookup.output).toMatch(new RegExp(`Name:\\s+${c}\\.service\\.cube\\s+Address:\\s+198\\.1[89]\\.`));
    expect(lookup.output).toContain("unknown-fails");
  });
});

describe("HTTP ingress", () => {
  test("a rolling update of 3 replicas under continuous load fails no request; an unknown host is a 404; the backend sees the client's address", async () => {
    const shop = uniqueJobName("shop");
    const host = `${shop}.example.com`;
    const ingressUrl = lc.cluster.workers[0]?.ingressUrl as string;
    const version = (v: string) => ({
      name: shop,
      tasks: [
        {
          name: "web",
          image: TEST_IMAGE,
          command: webCommand(`shop ${v}`),
          count: 3,
          resources: web,
          ...http,
          env: { VERSION: v },
          ingress: [{ host, path: "/", port: "http" }],
          services: [{ name: shop, port: "http" }],
          update: { max_parallel: 1, min_healthy_time: "1s" },
        },
      ],
    });
    const ask = (path: string, hostHeader = host) => fetch(`${ingressUrl}${path}`, { headers: { host: hostHeader } });
    await submit(version("v1"));
    await serviceWhen(shop, "3 healthy replicas", (s) => serving(s).length === 3);
    await waitFor("the ingress to route the host", async () => ((await ask("/")).status === 200 ? true : undefined));

    const unknown = await ask("/", "nobody.example.com");
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe("no ingress route for nobody.example.com/\n");
    const xff = await ask("/cgi-bin/xff");
    expect(await xff.text()).toBe("127.0.0.1\n");

    const load = startLoad(() => ask("/"));
    await Bun.sleep(1_000);
    await submit(version("v2"));
    const updated = await jobWhen(lc.client, shop, "3 tasks of version 2 healthy, none of version 1 left", (j) => {
      const live = j.tasks.filter((t) => !["stopped", "failed", "completed", "lost"].includes(t.state));
      return live.length === 3 && live.every((t) => t.jobVersion === j.version && t.state === "running" && t.health === "healthy");
    }, 120_000);
    expect(updated.version).toBe(2);
    await Bun.sleep(1_000);
    const result = await load.stop();

    expect(result.failures).toEqual([]);
    expect(result.requests / result.seconds).toBeGreaterThanOrEqual(50);
    expect(result.bodies.some((b) => b.startsWith("shop v1 says"))).toBe(true);
    expect(result.bodies.at(-1)).toStartWith("shop v2 says");
  });
});

/** Requests in two loops, each as soon as the one before answered (at least 10 ms apart), until stop(); every non-200 or error is a failure. */
function startLoad(request: () => Promise<Response>) {
  let running = true;
  const failures: string[] = [];
  const bodies: string[] = [];
  let requests = 0;
  const started = performance.now();
  const loop = async () => {
    while (running) {
      const sent = performance.now();
      try {
        const response = await request();
        const body = await response.text();
        if (response.status !== 200) failures.push(`HTTP ${response.status}: ${body.trim()}`);
        else bodies.push(body.trim());
      } catch (err) {
        failures.push((err as Error).message);
      }
      requests++;
      await Bun.sleep(Math.max(0, 10 - (performance.now() - sent)));
    }
  };
  const loops = [loop(), loop()];
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { failures, bodies, requests, seconds: (performance.now() - started) / 1000 };
    },
  };
}
