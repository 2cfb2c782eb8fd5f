import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { type EtcdCluster, requireEtcd, startEtcdCluster } from "../support/etcd-cluster.ts";
import { waitFor } from "../support/wait-for.ts";

/** The test harness for the etcd store: a real 3-member cluster that survives losing its leader. */
let etcd: EtcdCluster | undefined;

const base64 = (text: string) => Buffer.from(text).toString("base64");

/** One call to etcd's v3 JSON gateway; a deadline of its own, since a write in flight on a dead leader waits ~5 s. */
async function gateway<T>(endpoint: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${endpoint}${path}`, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(1_000) });
  const answer = (await response.json()) as T & { error?: string };
  if (!response.ok || answer.error) throw new Error(`${endpoint}${path} answered ${response.status}: ${answer.error}`);
  return answer;
}

const put = (endpoint: string, key: string, value: string) => gateway(endpoint, "/v3/kv/put", { key: base64(key), value: base64(value) });

async function get(endpoint: string, key: string): Promise<string | undefined> {
  const answer = await gateway<{ kvs?: { value: string }[] }>(endpoint, "/v3/kv/range", { key: base64(key) });
  const value = answer.kvs?.[0]?.value;
  return value === undefined ? undefined : Buffer.from(value, "base64").toString();
}

/** Pids of the processes whose command line names `text`. */
function processesNaming(text: string): number[] {
  return readdirSync("/proc").filter((name) => /^\d+$/.test(name)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text);
    } catch {
      return false;
    }
  }).map(Number);
}

beforeAll(() => {
  requireEtcd();
});

afterAll(async () => {
  await etcd?.stop();
});

test("a 3-member etcd cluster keeps serving when its leader member is killed, and takes it back", async () => {
  const cluster = await startEtcdCluster({ members: 3 });
  etcd = cluster;
  expect(cluster.endpoints).toHaveLength(3);
  expect(new Set(cluster.endpoints).size).toBe(3);

  const [first, second] = cluster.endpoints as [string, string, string];
  await put(first, "cube/harness/a", "one");
  expect(await get(second, "cube/harness/a")).toBe("one");

  const leader = await cluster.leader();
  await cluster.kill(leader);
  await expect(fetch(`${cluster.endpoints[leader]}/health`)).rejects.toThrow();
  const survivors = cluster.endpoints.filter((_, i) => i !== leader) as [string, string];
  // Writes come back once the two survivors have elected a leader.
  await waitFor("a write after the leader member died", () => put(survivors[0], "cube/harness/b", "two"), 10_000, 50);
  expect(await get(survivors[1], "cube/harness/b")).toBe("two");
  const newLeader = await cluster.leader();
  expect(newLeader).not.toBe(leader);

  await cluster.restart(leader);
  // The restarted member caught up with what was written while it was down.
  expect(await get(cluster.endpoints[leader] as string, "cube/harness/b")).toBe("two");

  await cluster.stop();
  expect(processesNaming(cluster.dataDir)).toEqual([]);
  expect(existsSync(cluster.dataDir)).toBe(false);
  for (const endpoint of cluster.endpoints) await expect(fetch(`${endpoint}/health`)).rejects.toThrow();
});
