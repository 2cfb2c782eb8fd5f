/**
 * Where Cube keeps its state in etcd. One entity per key, so one logical change is one transaction of
 * a bounded number of operations: a task's recent events live inside its value, and a job's tasks and
 * versions sit under prefixes of its name, so forgetting a job is three operations however big it was.
 *
 *   /cube/jobs/<name>                  Job
 *   /cube/versions/<name>/<n, 10 digits> JobVersion
 *   /cube/tasks/<job>/<id>             { task, events }
 *   /cube/nodes/<id>                   Node (durable fields; stats and heartbeats below)
 *   /cube/heartbeats/<node id>         { at, stats }   written at most every TTL/3 per node, no compare
 *   /cube/tokens/<id>                  { token, hash }
 *   /cube/token-use/<id>               last use (ms), no compare: a touch never races a revoke
 *   /cube/secrets/<name>               StoredSecret (its kept versions, sealed)
 *   /cube/keyring/data-keys            StoredKeyring (the wrapped data keys)
 *   /cube/events/<manager>/<seq>       cluster events of one write, under a short lease (followers publish them)
 *   /cube/managers/<name>              { name, address, startedAt, lastSeenAt }
 *   /cube/leader                       the leader's name, under its lease
 */
export const ROOT = "/cube/";
export const LEADER_KEY = "/cube/leader";

export const keys = {
  job: (name: string) => `/cube/jobs/${name}`,
  versions: (job: string) => `/cube/versions/${job}/`,
  version: (job: string, version: number) => `/cube/versions/${job}/${String(version).padStart(10, "0")}`,
  tasks: (job: string) => `/cube/tasks/${job}/`,
  task: (job: string, id: string) => `/cube/tasks/${job}/${id}`,
  node: (id: string) => `/cube/nodes/${id}`,
  heartbeat: (nodeId: string) => `/cube/heartbeats/${nodeId}`,
  token: (id: string) => `/cube/tokens/${id}`,
  tokenUse: (id: string) => `/cube/token-use/${id}`,
  secret: (name: string) => `/cube/secrets/${name}`,
  keyring: "/cube/keyring/data-keys",
  events: (manager: string, seq: number) => `/cube/events/${manager}/${seq}`,
  managers: "/cube/managers/",
  manager: (name: string) => `/cube/managers/${name}`,
};

/** The prefixes that hold the cluster's state (what a snapshot saves and a restore replaces). */
export const STATE_PREFIXES = ["/cube/jobs/", "/cube/versions/", "/cube/tasks/", "/cube/nodes/", "/cube/heartbeats/", "/cube/tokens/", "/cube/token-use/", "/cube/secrets/", "/cube/keyring/"];

export type ParsedKey =
  | { kind: "job"; name: string }
  | { kind: "version"; job: string; version: number }
  | { kind: "task"; job: string; id: string }
  | { kind: "node" | "heartbeat" | "token" | "tokenUse"; id: string }
  | { kind: "secret"; name: string }
  | { kind: "keyring" }
  | { kind: "events"; manager: string }
  | { kind: "manager"; name: string }
  | { kind: "other" };

const SIMPLE: Record<string, "node" | "heartbeat" | "token" | "tokenUse"> = { nodes: "node", heartbeats: "heartbeat", tokens: "token", "token-use": "tokenUse" };

export function parseKey(key: string): ParsedKey {
  const [, , area, a, b] = key.split("/");
  if (area === undefined || a === undefined) return { kind: "other" };
  if (area === "jobs") return { kind: "job", name: a };
  if (area === "versions" && b !== undefined) return { kind: "version", job: a, version: Number(b) };
  if (area === "tasks" && b !== undefined) return { kind: "task", job: a, id: b };
  if (area === "events") return { kind: "events", manager: a };
  if (area === "managers") return { kind: "manager", name: a };
  if (area === "secrets") return { kind: "secret", name: a };
  if (area === "keyring") return { kind: "keyring" };
  const simple = SIMPLE[area];
  return simple ? { kind: simple, id: a } : { kind: "other" };
}
