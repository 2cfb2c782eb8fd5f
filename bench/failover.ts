/**
 * Failover of highly available managers (issue 12): three `dist/cube` managers on a real 3-member
 * etcd, two workers running a 4-task service. Five times: while jobs are submitted to the managers
 * in turn, the leader manager is SIGKILLed (and started again after the round). Reports, as medians
 * of the five rounds, the longest time without an acknowledged submit (writeGapMs) and the time from
 * the kill until another manager says it leads (leaderElectedMs); and, summed over the rounds, the
 * acknowledged jobs missing afterwards (ackedLost) and the service's tasks or containers beyond its
 * own four (duplicates). Targets: writeGapMs ≤ 5,000, ackedLost 0, duplicates 0.
 *   bun build.ts && bun bench/failover.ts [--json] [--rounds=5]
 */
import { requireDocker } from "../test/support/docker.ts";
import { HaCluster } from "../test/support/ha-cluster.ts";
import { runningContainersOf, sleeperJob } from "../test/support/process-cluster.ts";
import { submitLoop } from "../test/support/submit-loop.ts";
import { waitFor } from "../test/support/wait-for.ts";
import { median, report, round } from "./stats.ts";

const rounds = Number(process.argv.find((a) => a.startsWith("--rounds="))?.slice("--rounds=".length) ?? 5);
const SERVICE = "failover-svc";
/** Past a new leader's election (3 s lease) and its wait of one heartbeat TTL before it would mark a node down. */
const ROUND_MS = 10_000;
const KILL_AFTER_MS = 2_000;

await requireDocker();
const cluster = await HaCluster.start({ managers: 3, workers: ["fo-w1", "fo-w2"] });
try {
  await cluster.client.submitJob(sleeperJob(SERVICE, 4), "json");
  await waitFor("the service's 4 containers", async () => ((await runningContainersOf(SERVICE)).length === 4 ? true : undefined), 30_000);
  const containers = new Set((await runningContainersOf(SERVICE)).map((c) => c.containerId));
  const gaps: number[] = [];
  const elected: number[] = [];
  let ackedLost = 0;
  let duplicates = 0;
  for (let round = 0; round < rounds; round++) {
    const old = await cluster.leader();
    const clients = cluster.managers.map((_, i) => cluster.clientOf(i));
    let electedMs = Number.NaN;
    const result = await submitLoop(clients, `fo-${round}`, ROUND_MS, async () => {
      await Bun.sleep(KILL_AFTER_MS);
      const killedAt = performance.now();
      await cluster.managers[old]?.proc.stop("SIGKILL");
      await cluster.leader(ROUND_MS);
      electedMs = performance.now() - killedAt;
    });
    const stored = new Set((await cluster.client.listJobs()).map((j) => j.name));
    ackedLost += result.acked.filter((a) => !stored.has(a.name)).length;
    const live = (await cluster.client.listTasks({ job: SERVICE })).filter((t) => t.state === "running" || t.state === "scheduled" || t.state === "pending");
    const running = await runningContainersOf(SERVICE);
    duplicates += Math.max(0, live.length - 4) + running.filter((c) => !containers.has(c.containerId)).length;
    gaps.push(result.longestGapMs);
    elected.push(electedMs);
    process.stderr.write(`round ${round + 1}: gap ${Math.round(result.longestGapMs)} ms, leader elected in ${Math.round(electedMs)} ms, ${result.acked.length} acked\n`);
    await cluster.startManager(old);
  }
  const result = { scenario: "failover", writeGapMs: round(median(gaps), 0), ackedLost, duplicates, leaderElectedMs: round(median(elected), 0) };
  report(result, `failover (median of ${rounds} leader kills): longest write gap ${result.writeGapMs} ms, leader elected in ${result.leaderElectedMs} ms, ${ackedLost} acknowledged jobs lost, ${duplicates} duplicates`);
} finally {
  await cluster.close();
}
