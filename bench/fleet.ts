/**
 * The control plane at scale, kubemark-style: a real manager process (dist/cube, or one at --addr)
 * and a fleet of hollow nodes (bench/hollow-fleet.ts) that speak the worker protocol but run nothing.
 * (1) register the nodes; (2) submit jobs of 100 to 10,000 tasks adding up to --tasks and time until
 * every task is running, by the fleet's accepted reports and then through the API; (3) with those
 * stored, submit jobs of 1–3 tasks, --in-flight at a time (16); throughout (2) and (3), sample one
 * page of `GET /v1/tasks` and of `GET /v1/nodes` (--sample-every=0s: none), reported over the whole
 * run and per phase, with how late the manager's event loop ran in each phase (its /metrics).
 * --timeout ends the run with partial results (exit code 1).
 *   bun build.ts && bun bench/fleet.ts [--json] [--nodes=5000] [--tasks=100000] [--timeout=5m]
 *     [--submit-for=8s] [--in-flight=16] [--sample-every=200ms] [--addr=URL --token=T --join-token=J]
 */
import { ApiClient } from "../src/client/api-client.ts";
import { parseDuration } from "../src/model/duration.ts";
import { attachManager, type ManagerUnderTest, startManager } from "./fleet-manager.ts";
import { HollowFleetProcess } from "./hollow-fleet-process.ts";
import { percentile, sentBetween, ThreadedSampler } from "./latency-sampler.ts";
import { type LoopLag, scrapeLoopLag } from "./loop-lag.ts";
import { jsonOutput, report, round } from "./stats.ts";

const text = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const count = (name: string, fallback: number): number => {
  const n = Number(text(name) ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1, not "${text(name)}"`);
  return n;
};
const duration = (name: string, fallback: string): number => {
  const ms = parseDuration(text(name) ?? fallback);
  if (ms === undefined) throw new Error(`--${name} must be a duration like 8s or 200ms, not "${text(name)}"`);
  return ms;
};

const nodes = count("nodes", 5_000);
const tasks = count("tasks", 100_000);
const timeoutMs = duration("timeout", "5m");
const submitForMs = duration("submit-for", "8s");
const sampleEveryMs = duration("sample-every", "200ms");
const addr = text("addr");
const smallJobsInFlight = count("in-flight", 16);
/** Job sizes, cycled until their sum is --tasks (the last job takes what is left). */
const JOB_SIZES = [1_000, 100, 5_000, 200, 10_000, 500, 2_000];
const PAGE = 500;
/** How long phase 3 waits for submits in flight when its time is up. */
const PHASE3_GRACE_MS = 10_000;
/** Time kept back from placement for phase 3 and for stopping. */
const PHASE3_SLACK_MS = PHASE3_GRACE_MS + 5_000;

function jobSizes(total: number): number[] {
  const sizes: number[] = [];
  for (let left = total, i = 0; left > 0; i++) {
    const size = Math.min(JOB_SIZES[i % JOB_SIZES.length] as number, left);
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** A service job of tiny tasks that may only land on this run's hollow nodes. */
function hollowJob(name: string, replicas: number, run: string): string {
  const constraints = [{ attribute: "node.label.hollow", operator: "=", value: run }];
  return JSON.stringify({ name, type: "service", tasks: [{ name: "main", image: "hollow/none:latest", count: replicas, resources: { cpu: 0.001, memory: 4 }, constraints }] });
}

const progress = (line: string) => {
  if (!jsonOutput) process.stderr.write(`fleet: ${line}\n`);
};

const run = crypto.randomUUID().slice(0, 8);
const sizes = jobSizes(tasks);
const names = sizes.map((_, i) => `fleet-${run}-${i}`);
const smallNames: string[] = [];

const result: Record<string, unknown> = {
  scenario: "fleet",
  nodes,
  tasks,
  jobs: sizes.length,
  allRunningMs: null,
  submitsPerSec: null,
  reportsPerSec: null,
  managerRssMb: null,
  managerCpuS: null,
  listP99Ms: null,
  listP99PlacingMs: null,
  listP99SubmittingMs: null,
  loopLagP99PlacingMs: null,
  loopLagP99SubmittingMs: null,
  tasksListP99Ms: null,
  nodesListP99Ms: null,
};

/** Keeps one phase's event-loop delay of the manager in the result. */
function noteLoopLag(phaseName: "Placing" | "Submitting", lag: LoopLag | null): void {
  if (lag) Object.assign(result, { [`loopLagP99${phaseName}Ms`]: lag.p99Ms, [`loopLagMax${phaseName}Ms`]: lag.maxMs });
}

const stopRun = new AbortController();
const timeout = setTimeout(() => stopRun.abort(new Error(`--timeout=${text("timeout") ?? "5m"} expired`)), timeoutMs);
const interrupt = () => stopRun.abort(new Error("interrupted"));
process.on("SIGINT", interrupt);
process.on("SIGTERM", interrupt);

/** A signal that aborts when `parent` does, or after `ms` with `reason`; `clear` drops its timer. */
function within(parent: AbortSignal, ms: number, reason: string): { signal: AbortSignal; clear: () => void } {
  const own = new AbortController();
  const timer = setTimeout(() => own.abort(new Error(reason)), Math.max(0, ms));
  const follow = () => own.abort(parent.reason);
  if (parent.aborted) follow();
  else parent.addEventListener("abort", follow, { once: true });
  return { signal: own.signal, clear: () => (clearTimeout(timer), parent.removeEventListener("abort", follow)) };
}

/** Sleeps, or rejects with the signal's reason as soon as it aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      if (signal.aborted) reject(signal.reason);
      else resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/** The promise's outcome, or the signal's reason as soon as it aborts (the API client's calls take no signal). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  let stop = () => {};
  const aborted = new Promise<never>((_, reject) => {
    stop = () => reject(signal.reason);
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener("abort", stop));
}

/**
 * Phase 2: submits the jobs one after another and waits until the fleet's accepted reports say every
 * task runs, then until the jobs' summaries in the API say so too.
 */
async function placeAll(client: ApiClient, fleet: HollowFleetProcess, signal: AbortSignal): Promise<void> {
  const firstSubmit = Date.now();
  const reportsBefore = fleet.progress.reportsAccepted;
  for (const [i, size] of sizes.entries()) {
    await unlessAborted(client.submitJob(hollowJob(names[i] as string, size, run), "json"), signal);
  }
  result.submitAllMs = Date.now() - firstSubmit;
  progress(`(2) ${sizes.length} jobs submitted in ${result.submitAllMs} ms; waiting for ${tasks} tasks to run`);
  const ticker = jsonOutput ? null : setInterval(() => progress(`    ${fleet.progress.assignedSeen} assigned, ${fleet.progress.runningAccepted} running of ${tasks} after ${round((Date.now() - firstSubmit) / 1000)} s`), 5_000);
  try {
    await fleet.until((f) => f.progress.assignedSeen >= tasks, signal);
    result.allAssignedMs = fleet.progress.at - firstSubmit;
    await fleet.until((f) => f.progress.runningAccepted >= tasks, signal);
  } finally {
    if (ticker) clearInterval(ticker);
  }
  const fleetRunningMs = fleet.progress.at - firstSubmit;
  const reports = fleet.progress.reportsAccepted - reportsBefore;
  const jobs = new Set(names);
  for (let polls = 1; ; polls++) {
    const running = (await unlessAborted(client.listJobs(), signal)).filter((j) => jobs.has(j.name)).reduce((sum, j) => sum + (j.summary.byState.running ?? 0), 0);
    if (running >= tasks) {
      // The fleet's count is the time; if the API had not caught up at once, the time it did is the honest one.
      const allRunningMs = polls === 1 ? fleetRunningMs : Date.now() - firstSubmit;
      Object.assign(result, { allRunningMs, fleetRunningMs, apiConfirmPolls: polls, reportsPerSec: Math.round(reports / (fleetRunningMs / 1000)) });
      progress(`    all ${tasks} assigned after ${result.allAssignedMs} ms, running after ${allRunningMs} ms (fleet count ${fleetRunningMs} ms; the API agreed after ${polls} poll(s)); ${reports} reports accepted`);
      return;
    }
    await pause(500, signal);
  }
}

/**
 * Phase 3: submits jobs of 1–3 tasks, `smallJobsInFlight` at a time, for `forMs`. Submits still
 * unanswered PHASE3_GRACE_MS later are given up on and counted as such, so a stalled manager shows as a rate, not a hang.
 */
async function submitSmallJobs(client: ApiClient, forMs: number, signal: AbortSignal): Promise<void> {
  const started = performance.now();
  const window = within(signal, forMs + PHASE3_GRACE_MS, "unanswered");
  const times: number[] = [];
  let failed = 0;
  let sentCount = 0;
  const lane = async () => {
    while (performance.now() - started < forMs && !window.signal.aborted) {
      const name = `fleet-${run}-s${smallNames.length}`;
      smallNames.push(name);
      sentCount++;
      const sent = performance.now();
      try {
        await unlessAborted(client.submitJob(hollowJob(name, (smallNames.length % 3) + 1, run), "json"), window.signal);
        times.push(performance.now() - sent);
      } catch {
        if (!window.signal.aborted) failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: smallJobsInFlight }, lane));
  window.clear();
  const elapsedS = (performance.now() - started) / 1000;
  const p99 = percentile(times, 0.99);
  const unanswered = sentCount - times.length - failed;
  Object.assign(result, { submitsPerSec: round(times.length / elapsedS), smallJobs: times.length, submitFailures: failed, submitsUnanswered: unanswered, submitP99Ms: p99 === null ? null : round(p99) });
  progress(`(3) ${times.length} small jobs submitted in ${round(elapsedS)} s (${failed} failed, ${unanswered} unanswered), ${result.submitsPerSec}/s`);
  signal.throwIfAborted();
}

/** Forgets this run's jobs on a manager the bench did not start (its hollow nodes stay, as down nodes). */
async function purgeJobs(target: ManagerUnderTest): Promise<void> {
  const client = new ApiClient(target.url, { token: target.token, timeoutMs: 120_000 });
  const all = [...names, ...smallNames];
  let failed = 0;
  const lane = async () => {
    for (let name = all.pop(); name !== undefined; name = all.pop()) await client.stopJob(name, true).catch(() => failed++);
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  // A job the run never got to submit is not there to purge.
  progress(`purged this run's jobs from ${target.url} (${failed} not found or refused)`);
}

function humanLine(): string {
  const r = result as Record<string, number | string | null>;
  const parts = [
    `fleet: ${nodes} hollow nodes (registered in ${r.registerMs ?? "-"} ms, ${r.reportRoute ?? "?"} report route), ${tasks} tasks in ${sizes.length} jobs`,
    `all assigned after ${r.allAssignedMs ?? "-"} ms, running after ${r.allRunningMs ?? "-"} ms (target ≤ 30000 for 100k on 5k nodes), ${r.reportsPerSec ?? "-"} reports/s`,
    `${r.submitsPerSec ?? "-"} small-job submits/s, ${smallJobsInFlight} in flight, with the tasks stored (target ≥ 1000; p99 ${r.submitP99Ms ?? "-"} ms)`,
    `list p99 ${r.listP99Ms ?? "-"} ms (p50 ${r.listP50Ms ?? "-"}, p90 ${r.listP90Ms ?? "-"}, max ${r.listMaxMs ?? "-"}; p99 ${r.listP99PlacingMs ?? "-"} ms while placing, ${r.listP99SubmittingMs ?? "-"} ms while submitting ${smallJobsInFlight} at a time; tasks ${r.tasksListP99Ms ?? "-"} ms over ${r.tasksListSamples ?? 0} samples of ${r.tasksPageKb ?? "-"} KB, nodes ${r.nodesListP99Ms ?? "-"} ms over ${r.nodesListSamples ?? 0} samples of ${r.nodesPageKb ?? "-"} KB; target ≤ 20)`,
    `the manager's event loop ran late by p99 ${r.loopLagP99PlacingMs ?? "-"} ms (max ${r.loopLagMaxPlacingMs ?? "-"}) while placing, p99 ${r.loopLagP99SubmittingMs ?? "-"} ms (max ${r.loopLagMaxSubmittingMs ?? "-"}) while submitting (what a request passed to the manager's thread waits behind; lists are answered by the API's front thread)`,
    `manager peak RSS ${r.managerRssMb ?? "-"} MB (target ≤ 1024), CPU ${r.managerCpuS ?? "-"} s; fleet CPU ${r.fleetCpuS ?? "-"} s, bench driver CPU ${r.driverCpuS} s`,
    `reports refused ${r.reportsRefused ?? "-"}, failed ${r.reportFailures ?? "-"}; heartbeats ${r.heartbeats ?? "-"} (failed ${r.heartbeatFailures ?? "-"}); watch failures ${r.watchFailures ?? "-"}; tasks seen lost ${r.lostSeen ?? "-"}${r.lastFleetError ? `; last failure: ${r.lastFleetError}` : ""}`,
  ];
  if (r.placeStoppedBy) parts.unshift(`INCOMPLETE: ${r.placeStoppedBy}; ${r.runningAtStop} of ${tasks} running then`);
  if (r.stoppedBy) parts.unshift(`INCOMPLETE: ${r.stoppedBy} in phase ${r.stoppedIn}`);
  return parts.join("\n  ");
}

let manager: ManagerUnderTest | undefined;
let fleet: HollowFleetProcess | undefined;
let samplers: { tasks: ThreadedSampler; nodes: ThreadedSampler } | undefined;
let phase = "start the manager";
/** When phase 3 began: list samples sent before it were taken during placement. */
let submitsFrom = Number.POSITIVE_INFINITY;
let managerCpuAtStart = 0;
const driverCpuAtStart = process.cpuUsage();
const runStarted = Date.now();
try {
  if (addr) {
    const token = text("token") ?? process.env.CUBE_TOKEN;
    const joinToken = text("join-token") ?? process.env.CUBE_JOIN_TOKEN;
    if (!token || !joinToken) throw new Error("--addr needs --token (or CUBE_TOKEN) and --join-token (or CUBE_JOIN_TOKEN)");
    manager = attachManager(addr, token, joinToken);
  } else {
    manager = await startManager();
  }
  void manager.exited.then((code) => stopRun.abort(new Error(`the manager exited with code ${code}`)));
  managerCpuAtStart = manager.usage()?.cpuS ?? 0;
  const client = new ApiClient(manager.url, { token: manager.token, timeoutMs: 120_000 });
  progress(`manager ${manager.url}${manager.pid ? ` (pid ${manager.pid})` : ""}; run ${run}: ${nodes} hollow nodes, ${tasks} tasks in ${sizes.length} jobs`);

  phase = "register";
  fleet = new HollowFleetProcess({ addr: manager.url, joinToken: manager.joinToken, nodes, run });
  await fleet.until((f) => f.registered !== null, stopRun.signal);
  const registered = fleet.registered as NonNullable<HollowFleetProcess["registered"]>;
  Object.assign(result, { registerMs: registered.registerMs, reportRoute: registered.route });
  progress(`(1) ${nodes} nodes registered in ${registered.registerMs} ms; reports go to the ${registered.route} route`);

  phase = "place";
  samplers = {
    tasks: new ThreadedSampler(`${manager.url}/v1/tasks?limit=${PAGE}`, manager.token, sampleEveryMs),
    nodes: new ThreadedSampler(`${manager.url}/v1/nodes?limit=${PAGE}`, manager.token, sampleEveryMs),
  };
  if (sampleEveryMs > 0) for (const sampler of Object.values(samplers)) sampler.start();
  // The manager's event-loop delay, per phase: this scrape starts the window that phase 3's first one ends.
  await scrapeLoopLag(manager.url, manager.token);
  // Placement gets what is left of --timeout but phase 3's share, so a manager that cannot place
  // everything still shows how it takes submits with those tasks stored.
  const budgetMs = timeoutMs - (Date.now() - runStarted) - submitForMs - PHASE3_SLACK_MS;
  const placement = within(stopRun.signal, budgetMs, `placement did not finish within its share of --timeout (${round(budgetMs / 1000)} s)`);
  try {
    await placeAll(client, fleet, placement.signal);
  } catch (err) {
    if (stopRun.signal.aborted) throw err;
    Object.assign(result, { placeStoppedBy: (err as Error).message, runningAtStop: fleet.progress.runningAccepted });
    process.exitCode = 1;
    progress(`    ${(err as Error).message}: ${fleet.progress.runningAccepted} of ${tasks} running; on to phase 3 with the tasks stored`);
  } finally {
    placement.clear();
  }

  phase = "submit";
  noteLoopLag("Placing", await scrapeLoopLag(manager.url, manager.token));
  submitsFrom = Date.now();
  await submitSmallJobs(client, submitForMs, stopRun.signal);
  noteLoopLag("Submitting", await scrapeLoopLag(manager.url, manager.token));
  phase = "done";
} catch (err) {
  result.stoppedBy = (err as Error).message;
  result.stoppedIn = phase;
  process.exitCode = 1;
  progress(`stopped while in phase "${phase}": ${(err as Error).message}`);
} finally {
  clearTimeout(timeout);
  if (samplers) {
    await Promise.all([samplers.tasks.stop(), samplers.nodes.stop()]);
    const { tasks: t, nodes: n } = samplers;
    const at = (values: number[], p: number) => (percentile(values, p) === null ? null : round(percentile(values, p) as number));
    const p99 = (values: number[]) => at(values, 0.99);
    const both = [...t.timesMs, ...n.timesMs];
    const during = (from: number, to: number) => p99([...sentBetween(t, from, to), ...sentBetween(n, from, to)]);
    Object.assign(result, {
      listP99Ms: p99(both),
      listP99PlacingMs: during(0, submitsFrom),
      listP99SubmittingMs: during(submitsFrom, Number.POSITIVE_INFINITY),
      listP50Ms: at(both, 0.5),
      listP90Ms: at(both, 0.9),
      listMaxMs: at(both, 1),
      tasksListP99Ms: p99(t.timesMs),
      nodesListP99Ms: p99(n.timesMs),
      tasksListSamples: t.timesMs.length,
      nodesListSamples: n.timesMs.length,
      listErrors: t.errors + n.errors,
      tasksPageKb: Math.round(t.largestBodyBytes / 1024),
      nodesPageKb: Math.round(n.largestBodyBytes / 1024),
    });
  }
  if (fleet) {
    const { assignedSeen, runningAccepted, reportsAccepted } = fleet.progress;
    Object.assign(result, { assignedSeen, runningReported: runningAccepted, reportsAccepted });
    await fleet.stop();
    const final = fleet.final;
    if (final) {
      const { reportsRefused, reportFailures, registerFailures, heartbeats, heartbeatFailures, watchFailures, lostSeen, lastError, cpuS, peakRssMb } = final;
      Object.assign(result, { reportsRefused, reportFailures, registerFailures, heartbeats, heartbeatFailures, watchFailures, lostSeen, lastFleetError: lastError || null, fleetCpuS: cpuS, fleetRssMb: peakRssMb });
    }
  }
  if (manager) {
    const usage = manager.usage();
    if (usage) Object.assign(result, { managerRssMb: usage.peakRssMb, managerCpuS: round(usage.cpuS - managerCpuAtStart, 2) });
    if (addr) await purgeJobs(manager);
    await manager.stop();
  }
  const driverCpu = process.cpuUsage(driverCpuAtStart);
  result.driverCpuS = round((driverCpu.user + driverCpu.system) / 1e6, 2);
  process.off("SIGINT", interrupt);
  process.off("SIGTERM", interrupt);
  report(result, humanLine());
}
