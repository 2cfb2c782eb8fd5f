/**
 * The HTTP ingress against no ingress: the same small answer (busybox httpd in a container) fetched
 * through `--ingress` and straight from the container's host port, by the same client, in the same
 * run, in alternating rounds (so load from elsewhere on the machine hits both alike).
 *   bun bench/ingress.ts [--json] [--seconds=N] [--concurrency=N]
 */
import { startLocalCluster } from "../test/support/local-cluster.ts";
import { requireDocker, TEST_IMAGE } from "../test/support/docker.ts";
import { waitFor } from "../test/support/wait-for.ts";
import { report, round } from "./stats.ts";

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const seconds = arg("seconds", 4);
const concurrency = arg("concurrency", 4);
const ROUNDS = 3;
const HOST = "bench.example.com";

await requireDocker();
const lc = await startLocalCluster(1, 30_000, { ingress: true });
try {
  const job = `bench-ingress-${crypto.randomUUID().slice(0, 8)}`;
  const spec = {
    name: job,
    // A whole core: the engine's cpu quota must not be what is measured.
    tasks: [{ name: "web", image: TEST_IMAGE, command: ["httpd", "-f", "-p", "8080", "-h", "/www"], resources: { cpu: 1, memory: 32 }, ports: [{ name: "http", container: 8080 }], ingress: [{ host: HOST, path: "/", port: "http" }] }],
  };
  await lc.client.submitJob(JSON.stringify(spec), "json");
  const ingress = lc.cluster.workers[0]?.ingressUrl as string;
  await waitFor("the ingress to route the bench host", async () => ((await fetch(`${ingress}/`, { headers: { host: HOST } }).catch(() => null))?.status === 200 ? true : undefined), 60_000);
  const task = (await lc.client.listTasks({ job }))[0];
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
  await lc.client.stopJob(job, true);
} finally {
  await lc.close();
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
