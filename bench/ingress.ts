/**
 * The HTTP ingress against no ingress: the same small answer (busybox httpd in a container) fetched
 * through `--ingress` and straight from the container's host port, by the same client, in the same
 * run, in alternating rounds (so load from elsewhere on the machine hits both alike). The cluster is
 * `dist/cube dev` in a process of its own, so the ingress shares its CPU with the client as it would
 * on a real machine, not its event loop.
 *   bun build.ts && bun bench/ingress.ts [--json] [--seconds=N] [--concurrency=N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../src/client/api-client.ts";
import { requireDocker, TEST_IMAGE } from "../test/support/docker.ts";
import { freePort } from "../test/support/free-port.ts";
import { CubeProcess, requireBinary } from "../test/support/processes.ts";
import { releaseServiceAddresses } from "../test/support/service-addresses.ts";
import { waitFor } from "../test/support/wait-for.ts";
import { report, round } from "./stats.ts";

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const seconds = arg("seconds", 4);
const concurrency = arg("concurrency", 4);
const ROUNDS = 3;
const HOST = "bench.example.com";

requireBinary();
await requireDocker();
const dataDir = mkdtempSync(join(tmpdir(), "cube-bench-ingress-"));
const ingress = `http://127.0.0.1:${freePort()}`;
const dev = new CubeProcess(["dev", "--port=0", "--workers=1", `--ingress=${new URL(ingress).host}`, `--data-dir=${dataDir}`]);
try {
  const url = (await dev.waitForOutput(/manager: (\S+)/, 30_000))[1] as string;
  const token = (await dev.waitForOutput(/export CUBE_TOKEN=(\S+)/))[1] as string;
  const client = new ApiClient(url, { token });
  const job = `bench-ingress-${crypto.randomUUID().slice(0, 8)}`;
  const spec = {
    name: job,
    // A whole core: the engine's cpu quota must not be what is measured.
    tasks: [{ name: "web", image: TEST_IMAGE, command: ["httpd", "-f", "-p", "8080", "-h", "/www"], resources: { cpu: 1, memory: 32 }, ports: [{ name: "http", container: 8080 }], ingress: [{ host: HOST, path: "/", port: "http" }] }],
  };
  await client.submitJob(JSON.stringify(spec), "json");
  await waitFor("the ingress to route the bench host", async () => ((await fetch(`${ingress}/`, { headers: { host: HOST } }).catch(() => null))?.status === 200 ? true : undefined), 60_000);
  const task = (await client.listTasks({ job }))[0];
  const direct = `http://127.0.0.1:${task?.hostPorts.http}/`;

  const through = { latencies: [] as number[], seconds: 0 };
  const straight = { latencies: [] as number[], seconds: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    await load(straight, direct, {});
    await load(through, `${ingress}/`, { host: HOST });
  }
  const summary = (r: typeof through) => {
    const sorted = [...r.latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] as number;
    return { rps: Math.round(r.latencies.length / r.seconds), p50Ms: round(at(0.5), 2), p99Ms: round(at(0.99), 2) };
  };
  const viaIngress = summary(through);
  const viaPort = summary(straight);
  report(
    { scenario: "ingress", rps: viaIngress.rps, p50Ms: viaIngress.p50Ms, p99Ms: viaIngress.p99Ms, directRps: viaPort.rps, directP99Ms: viaPort.p99Ms },
    `ingress: ${viaIngress.rps} req/s (p50 ${viaIngress.p50Ms} ms, p99 ${viaIngress.p99Ms} ms); straight to the host port: ${viaPort.rps} req/s (p99 ${viaPort.p99Ms} ms); ${concurrency} concurrent, ${ROUNDS}×${seconds}s each`,
  );
} finally {
  // cube dev stops and removes what it started on SIGTERM.
  await dev.stop("SIGTERM");
  await releaseServiceAddresses(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
}

/** `concurrency` loops fetching the url for `seconds`; every answer must be a 200. */
async function load(into: { latencies: number[]; seconds: number }, url: string, headers: Record<string, string>): Promise<void> {
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const sent = performance.now();
        const response = await fetch(url, { headers });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`bench request to ${url} answered HTTP ${response.status}`);
        into.latencies.push(performance.now() - sent);
      }
    }),
  );
  into.seconds += (performance.now() - started) / 1000;
}
