import { BadRequestError } from "../lib/errors.ts";
import type { JobVersion } from "../model/api-types.ts";
import type { Job } from "../model/job.ts";
import type { Node } from "../model/node.ts";
import type { StoredKeyring, StoredSecret } from "../model/secret.ts";
import type { Task, TaskEvent } from "../model/task.ts";
import type { Token } from "../model/token.ts";
import type { Store } from "./store.ts";

/**
 * A snapshot file: newline-delimited JSON, a header first, then one record per line. The same file
 * comes from and goes to either store, so restoring a SQLite manager's snapshot into etcd moves a
 * cluster to HA.
 */
export const SNAPSHOT_FORMAT = "cube-snapshot";
export const SNAPSHOT_VERSION = 1;

export interface SnapshotHeader {
  format: typeof SNAPSHOT_FORMAT;
  version: number;
  createdAt: number;
  /** Which store it was saved from (for the reader; any store restores any snapshot). */
  store: "sqlite" | "etcd";
}

export type SnapshotRecord =
  | { kind: "job"; job: Job; versions: JobVersion[] }
  | { kind: "task"; task: Task; events: TaskEvent[] }
  | { kind: "node"; node: Node }
  | { kind: "token"; token: Token; hash: string }
  /** Sealed values only: restoring them needs the key-encryption key they were sealed under (the keyring file, or the passphrase). */
  | { kind: "secret"; secret: StoredSecret }
  | { kind: "keyring"; keyring: StoredKeyring };

/** The lines of a snapshot of everything the store holds, header first. */
export function* snapshotLines(store: Store, now: number): Generator<string> {
  const header: SnapshotHeader = { format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, createdAt: now, store: store.shared ? "etcd" : "sqlite" };
  yield JSON.stringify(header);
  const versions = store.listAllJobVersions();
  for (const job of store.listJobs()) yield line({ kind: "job", job, versions: versions.get(job.spec.name) ?? [] });
  for (const task of store.listTasks()) yield line({ kind: "task", task, events: store.listTaskEvents(task.id) });
  for (const node of store.listNodes()) yield line({ kind: "node", node });
  for (const token of store.listTokens()) {
    const stored = store.getToken(token.id);
    if (stored) yield line({ kind: "token", token: stored.token, hash: stored.hash });
  }
  const keyring = store.getKeyring();
  if (keyring) yield line({ kind: "keyring", keyring });
  for (const secret of store.listSecrets()) yield line({ kind: "secret", secret });
}

const line = (record: SnapshotRecord) => JSON.stringify(record);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** What each kind of record must carry (enough to refuse a file that is not ours before anything is changed). */
const REQUIRED: Record<SnapshotRecord["kind"], (r: Record<string, unknown>) => boolean> = {
  job: (r) => isObject(r.job) && isObject(r.job.spec) && typeof r.job.spec.name === "string" && typeof r.job.version === "number" && Array.isArray(r.versions),
  task: (r) => isObject(r.task) && typeof r.task.id === "string" && typeof r.task.job === "string" && Array.isArray(r.events),
  node: (r) => isObject(r.node) && typeof r.node.id === "string" && typeof r.node.name === "string",
  token: (r) => isObject(r.token) && typeof r.token.id === "string" && typeof r.hash === "string",
  secret: (r) => isObject(r.secret) && typeof r.secret.name === "string" && typeof r.secret.version === "number" && Array.isArray(r.secret.versions),
  keyring: (r) => isObject(r.keyring) && isObject(r.keyring.seal) && typeof r.keyring.active === "string" && Array.isArray(r.keyring.keys),
};

/** Parses and checks a whole snapshot file; a 400 that says what is wrong, before anything is changed. */
export function parseSnapshot(text: string): { header: SnapshotHeader; records: SnapshotRecord[] } {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const notOne = "it is not a Cube snapshot (cube snapshot save writes one); nothing was changed";
  let header: unknown;
  try {
    header = JSON.parse(lines[0] ?? "");
  } catch {
    throw new BadRequestError(`the file's first line is not JSON: ${notOne}`);
  }
  if (!isObject(header) || header.format !== SNAPSHOT_FORMAT) throw new BadRequestError(`the file has no "${SNAPSHOT_FORMAT}" header: ${notOne}`);
  if (header.version !== SNAPSHOT_VERSION) throw new BadRequestError(`the snapshot is of format version ${String(header.version)}; this Cube reads version ${SNAPSHOT_VERSION}; nothing was changed`);
  const records = lines.slice(1).map((text, i): SnapshotRecord => {
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      throw new BadRequestError(`line ${i + 2} of the snapshot is not JSON; nothing was changed`);
    }
    const check = isObject(record) ? REQUIRED[record.kind as SnapshotRecord["kind"]] : undefined;
    if (!isObject(record) || !check?.(record)) throw new BadRequestError(`line ${i + 2} of the snapshot is not a job, task, node, token, secret or keyring record; nothing was changed`);
    return record as SnapshotRecord;
  });
  return { header: header as unknown as SnapshotHeader, records };
}

const COUNTED_AS: Record<SnapshotRecord["kind"], string> = { job: "jobs", task: "tasks", node: "nodes", token: "tokens", secret: "secrets", keyring: "keyring" };

/** How many of each kind a snapshot holds (secrets and the keyring only when it has them). */
export function countRecords(records: readonly SnapshotRecord[]): Record<string, number> {
  const counts: Record<string, number> = { jobs: 0, tasks: 0, nodes: 0, tokens: 0 };
  for (const r of records) counts[COUNTED_AS[r.kind]] = (counts[COUNTED_AS[r.kind]] ?? 0) + 1;
  return counts;
}
