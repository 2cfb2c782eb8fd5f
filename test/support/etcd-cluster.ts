import type { Subprocess } from "bun";
import { afterAll, beforeAll, beforeEach } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EtcdGateway } from "../../src/store/etcd/etcd-gateway.ts";
import { ROOT } from "../../src/store/etcd/etcd-keys.ts";
import { freePort } from "./free-port.ts";
import { waitFor } from "./wait-for.ts";

/**
 * Test timing, as in scripts/etcd.sh (keep the two alike): heartbeats every 50 ms and an election after
 * 250-500 ms of silence, so a killed leader member is replaced in about 0.3 s. A write that was in flight
 * on the old leader is not failed by etcd until 5 s + 2 × the election timeout: clients need their own
 * shorter deadline and a retry.
 */
const HEARTBEAT_MS = 50;
const ELECTION_MS = 250;
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

export interface EtcdCluster {
  /** Client URLs, one per member, in member order (`http://127.0.0.1:PORT`). */
  readonly endpoints: string[];
  /** The temp dir holding every member's data; removed by stop(). */
  readonly dataDir: string;
  /** Sends the signal (SIGKILL unless told) to member i and waits for it to exit (not after SIGSTOP or SIGCONT). */
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts member i again on its ports and data dir, and waits until it is healthy. */
  restart(i: number): Promise<void>;
  /** The index of the member that leads the cluster now (waits while an election is under way). */
  leader(): Promise<number>;
  /** Stops every member and removes the data dir. */
  stop(): Promise<void>;
}

interface Member {
  name: string;
  clientUrl: string;
  peerUrl: string;
  proc?: Subprocess<"ignore", "pipe", "pipe">;
  output: string;
}

/** Throws, naming the script that installs etcd, when no `etcd` is on the PATH. */
export function requireEtcd(): string {
  const path = Bun.which("etcd");
  if (!path) throw new Error("etcd tests need the `etcd` server on the PATH: run `bash scripts/etcd.sh install`");
  return path;
}

async function isHealthy(clientUrl: string): Promise<boolean> {
  try {
    // Short: a member still forming the cluster can hold the answer for a second; asking again is quicker.
    const response = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(250) });
    return ((await response.json()) as { health?: string }).health === "true";
  } catch {
    return false;
  }
}

async function collect(member: Member, stream: ReadableStream<Uint8Array>): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) member.output += decoder.decode(next.value, { stream: true });
}

/** A process killed by a signal keeps exitCode null, so both codes are looked at. */
const isRunning = (m: Member): boolean => m.proc !== undefined && m.proc.exitCode === null && m.proc.signalCode === null;

/**
 * Starts a real etcd cluster of `members` processes on free loopback ports, data in a temp dir, and
 * waits until every member answers `/health` with `{"health":"true"}`.
 *
 * @example
 * const etcd = await startEtcdCluster({ members: 3 });
 * try { await fetch(`${etcd.endpoints[0]}/v3/kv/range`, { method: "POST", body: "{\"key\":\"YQ==\"}" }); }
 * finally { await etcd.stop(); }
 */
export async function startEtcdCluster({ members: count = 3 }: { members?: number } = {}): Promise<EtcdCluster> {
  const etcd = requireEtcd();
  const dataDir = mkdtempSync(join(tmpdir(), "cube-etcd-"));
  const members: Member[] = Array.from({ length: count }, (_, i) => ({
    name: `m${i + 1}`,
    clientUrl: `http://127.0.0.1:${freePort()}`,
    peerUrl: `http://127.0.0.1:${freePort()}`,
    output: "",
  }));
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
  const token = `cube-test-${process.pid}-${Date.now()}`;

  const member = (i: number): Member => {
    const m = members[i];
    if (!m) throw new Error(`no etcd member ${i}: the cluster has members 0..${count - 1}`);
    return m;
  };

  const spawn = (m: Member): void => {
    // On a restart the data dir already holds the member, and etcd ignores the --initial-* flags.
    const proc = Bun.spawn([
      etcd,
      `--name=${m.name}`, `--data-dir=${join(dataDir, m.name)}`,
      `--listen-client-urls=${m.clientUrl}`, `--advertise-client-urls=${m.clientUrl}`,
      `--listen-peer-urls=${m.peerUrl}`, `--initial-advertise-peer-urls=${m.peerUrl}`,
      `--initial-cluster=${initialCluster}`, "--initial-cluster-state=new", `--initial-cluster-token=${token}`,
      `--heartbeat-interval=${HEARTBEAT_MS}`, `--election-timeout=${ELECTION_MS}`, "--pre-vote",
      "--logger=zap", "--log-level=warn",
    ], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    m.proc = proc;
    void collect(m, proc.stdout);
    void collect(m, proc.stderr);
  };

  const waitHealthy = (m: Member): Promise<true> =>
    waitFor(`etcd member ${m.name} at ${m.clientUrl} to be healthy`, async () => {
      if (!isRunning(m)) throw new Error(`${m.name} exited (${m.proc?.exitCode ?? m.proc?.signalCode}):\n${m.output.slice(-2_000)}`);
      return (await isHealthy(m.clientUrl)) || undefined;
    }, START_TIMEOUT_MS, 50);

  const signalMember = async (m: Member, signal: NodeJS.Signals): Promise<void> => {
    const proc = m.proc;
    if (!proc || !isRunning(m)) return;
    proc.kill(signal);
    // SIGSTOP freezes a member (a hung peer) and SIGCONT thaws it: neither ends it.
    if (signal === "SIGSTOP" || signal === "SIGCONT") return;
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (!exited) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  };

  // SIGKILL: members told to stop together each try to hand leadership to another that is leaving and
  // take ~7 s; etcd is crash-safe, and the data is thrown away anyway.
  const stop = async (): Promise<void> => {
    await Promise.all(members.map((m) => signalMember(m, "SIGKILL")));
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    members.forEach(spawn);
    await Promise.all(members.map(waitHealthy));
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    endpoints: members.map((m) => m.clientUrl),
    dataDir,
    kill: (i, signal = "SIGKILL") => signalMember(member(i), signal),
    async restart(i) {
      const m = member(i);
      if (isRunning(m)) throw new Error(`etcd member ${m.name} is still running: kill it first`);
      spawn(m);
      await waitHealthy(m);
    },
    leader: () =>
      waitFor("an etcd member that knows its leader", async () => {
        const statuses = await Promise.all(members.map((m) => (isRunning(m) ? memberStatus(m.clientUrl).catch(() => undefined) : undefined)));
        const leaderId = statuses.find((s) => s?.leader && s.leader !== "0")?.leader;
        // A member may still name a leader that just died: then no live member has that id yet.
        const index = statuses.findIndex((s) => s !== undefined && s.header.member_id === leaderId);
        return index >= 0 ? index : undefined;
      }, START_TIMEOUT_MS, 50),
    stop,
  };
}

/** `/v3/maintenance/status`: the member's own id and the id of the leader it follows ("0" or absent when none). */
async function memberStatus(clientUrl: string): Promise<{ header: { member_id: string }; leader?: string }> {
  const response = await fetch(`${clientUrl}/v3/maintenance/status`, { method: "POST", body: "{}", signal: AbortSignal.timeout(1_000) });
  if (!response.ok) throw new Error(`${clientUrl} status answered ${response.status}`);
  return (await response.json()) as { header: { member_id: string }; leader?: string };
}

/**
 * A 3-member etcd for one test file: started before its tests, stopped after them, and emptied of
 * Cube's keys before each test. Returns the running cluster (an error before beforeAll has run).
 */
export function etcdPerFile(): () => EtcdCluster {
  let etcd: EtcdCluster | undefined;
  beforeAll(async () => {
    requireEtcd();
    etcd = await startEtcdCluster({ members: 3 });
  }, 30_000);
  afterAll(() => etcd?.stop());
  beforeEach(async () => {
    await new EtcdGateway(current().endpoints).txn([], [{ delete: { key: ROOT, prefix: true } }]);
  });
  function current(): EtcdCluster {
    if (!etcd) throw new Error("the test file's etcd has not started (etcdPerFile's beforeAll did not run)");
    return etcd;
  }
  return current;
}
