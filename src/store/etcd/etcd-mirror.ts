import type { JobVersion } from "../../model/api-types.ts";
import type { Job } from "../../model/job.ts";
import type { Node, NodeStats } from "../../model/node.ts";
import type { StoredKeyring, StoredSecret } from "../../model/secret.ts";
import type { Task, TaskEvent } from "../../model/task.ts";
import type { Token } from "../../model/token.ts";
import { AmbiguousIdError, type TaskFilter } from "../tasks-repo.ts";
import { parseKey } from "./etcd-keys.ts";

export interface StoredTask {
  task: Task;
  events: TaskEvent[];
}

export interface StoredToken {
  token: Token;
  hash: string;
}

export interface Heartbeat {
  at: number;
  stats: NodeStats | null;
}

/** What changed in the mirror, by entity, for the manager to bring its memory up to date. */
export interface MirrorChanges {
  jobs: Set<string>;
  tasks: Set<string>;
  nodes: Set<string>;
  tokens: Set<string>;
  heartbeats: Set<string>;
}

export const noChanges = (): MirrorChanges => ({ jobs: new Set(), tasks: new Set(), nodes: new Set(), tokens: new Set(), heartbeats: new Set() });

const byTaskOrder = (a: Task, b: Task) =>
  a.job < b.job ? -1 : a.job > b.job ? 1 : a.group < b.group ? -1 : a.group > b.group ? 1 : a.index - b.index || a.createdAt - b.createdAt;

/**
 * The etcd store's copy of every state key, as parsed entities with the text each key holds. Reads
 * of the Store interface are answered from here (synchronously, like SQLite's); writes change it
 * first and reach etcd when the store flushes. `place` is the one way an entity changes, for local
 * writes, for what the watch brings and for undoing a transaction that threw.
 */
export class EtcdMirror {
  readonly raw = new Map<string, string>();
  readonly jobs = new Map<string, Job>();
  readonly versions = new Map<string, Map<number, JobVersion>>();
  readonly tasks = new Map<string, StoredTask>();
  readonly nodes = new Map<string, Node>();
  readonly tokens = new Map<string, StoredToken>();
  readonly tokenUse = new Map<string, number>();
  readonly heartbeats = new Map<string, Heartbeat>();
  /** Read when asked (a secret put, a worker fetching a task's values): the manager keeps no copy, so nobody is told of their changes. */
  readonly secrets = new Map<string, StoredSecret>();
  keyring: StoredKeyring | null = null;

  /** Sets (text) or removes (null) the key's value, and notes in `changes` which entity that changed (keys outside the state are ignored). */
  place(key: string, text: string | null, changes?: MirrorChanges): void {
    if (text === null) this.raw.delete(key);
    else this.raw.set(key, text);
    const parsed = parseKey(key);
    const value = text === null ? null : JSON.parse(text);
    switch (parsed.kind) {
      case "job":
        setOrDelete(this.jobs, parsed.name, value);
        changes?.jobs.add(parsed.name);
        break;
      case "version": {
        let versions = this.versions.get(parsed.job);
        if (!versions) this.versions.set(parsed.job, (versions = new Map()));
        setOrDelete(versions, parsed.version, value);
        if (versions.size === 0) this.versions.delete(parsed.job);
        changes?.jobs.add(parsed.job);
        break;
      }
      case "task":
        setOrDelete(this.tasks, parsed.id, value);
        changes?.tasks.add(parsed.id);
        break;
      case "node":
        setOrDelete(this.nodes, parsed.id, value);
        changes?.nodes.add(parsed.id);
        break;
      case "heartbeat":
        setOrDelete(this.heartbeats, parsed.id, value);
        changes?.heartbeats.add(parsed.id);
        break;
      case "token":
        setOrDelete(this.tokens, parsed.id, value);
        changes?.tokens.add(parsed.id);
        break;
      case "tokenUse":
        setOrDelete(this.tokenUse, parsed.id, value);
        changes?.tokens.add(parsed.id);
        break;
      case "secret":
        setOrDelete(this.secrets, parsed.name, value);
        break;
      case "keyring":
        this.keyring = value;
        break;
      default:
        break;
    }
  }

  clear(): void {
    for (const map of [this.raw, this.jobs, this.versions, this.tasks, this.nodes, this.tokens, this.tokenUse, this.heartbeats, this.secrets]) map.clear();
    this.keyring = null;
  }

  getJob(name: string): Job | null {
    return this.jobs.get(name) ?? null;
  }

  listJobs(): Job[] {
    return [...this.jobs.values()].sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1));
  }

  listJobVersions(name: string): JobVersion[] {
    return [...(this.versions.get(name)?.values() ?? [])].sort((a, b) => b.version - a.version);
  }

  listAllJobVersions(): Map<string, JobVersion[]> {
    return new Map([...this.versions.keys()].sort().map((name) => [name, this.listJobVersions(name)]));
  }

  getTask(id: string): Task | null {
    return this.tasks.get(id)?.task ?? null;
  }

  findTaskByPrefix(prefix: string): Task | null {
    const ids = [...this.tasks.keys()].filter((id) => id.startsWith(prefix)).sort();
    if (ids.length > 1) {
      const shown = ids.slice(0, 5);
      throw new AmbiguousIdError(`task id prefix "${prefix}" matches several tasks (${shown.join(", ")}${ids.length > 5 ? ", …" : ""}); give more characters`, { matches: shown });
    }
    return ids[0] === undefined ? null : this.getTask(ids[0]);
  }

  listTasks(filter: TaskFilter = {}): Task[] {
    const states = filter.state === undefined ? undefined : new Set(Array.isArray(filter.state) ? filter.state : [filter.state]);
    const out: Task[] = [];
    for (const { task } of this.tasks.values()) {
      if (filter.job !== undefined && task.job !== filter.job) continue;
      if (filter.nodeId !== undefined && task.nodeId !== filter.nodeId) continue;
      if (filter.desired !== undefined && task.desired !== filter.desired) continue;
      if (states && !states.has(task.state)) continue;
      out.push(task);
    }
    return out.sort(byTaskOrder);
  }

  listTaskEvents(taskId: string): TaskEvent[] {
    return this.tasks.get(taskId)?.events ?? [];
  }

  /** The node with its last shared heartbeat (a manager keeps newer ones in memory). */
  getNode(id: string): Node | null {
    const node = this.nodes.get(id);
    if (!node) return null;
    const beat = this.heartbeats.get(id);
    return beat && beat.at > node.lastHeartbeat ? { ...node, lastHeartbeat: beat.at, stats: beat.stats } : node;
  }

  getNodeByName(name: string): Node | null {
    for (const node of this.nodes.values()) if (node.name === name) return this.getNode(node.id);
    return null;
  }

  listNodes(): Node[] {
    return [...this.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((n) => this.getNode(n.id) as Node);
  }

  getToken(id: string): StoredToken | null {
    const stored = this.tokens.get(id);
    if (!stored) return null;
    const used = this.tokenUse.get(id);
    return used !== undefined && (stored.token.lastUsedAt ?? 0) < used ? { ...stored, token: { ...stored.token, lastUsedAt: used } } : stored;
  }

  listSecrets(): StoredSecret[] {
    return [...this.secrets.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  listTokens(): Token[] {
    return [...this.tokens.keys()].map((id) => (this.getToken(id) as StoredToken).token).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  listNodeTokens(nodeId: string): StoredToken[] {
    return [...this.tokens.keys()]
      .map((id) => this.getToken(id) as StoredToken)
      .filter((t) => t.token.nodeId === nodeId)
      .sort((a, b) => a.token.createdAt - b.token.createdAt || (a.token.id < b.token.id ? -1 : 1));
  }
}

function setOrDelete<K, V>(map: Map<K, V>, key: K, value: V | null): void {
  if (value === null) map.delete(key);
  else map.set(key, value);
}
