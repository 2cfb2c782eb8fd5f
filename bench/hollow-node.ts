/**
 * One hollow node (Kubernetes' kubemark idea): it speaks the real worker protocol — register with the
 * join token, heartbeat, long-poll its assignments, report task states — but runs no containers. A task
 * is reported running as soon as it is assigned, and stopped as soon as it is no longer wanted.
 */
import { ApiClient, ApiClientError } from "../src/client/api-client.ts";
import { AssignmentFeed } from "../src/client/assignment-feed.ts";
import { Backoff } from "../src/lib/backoff.ts";
import type { Assignment, RegisterRequest } from "../src/model/api-types.ts";
import type { TaskState } from "../src/model/task-state.ts";
import { type NodeConnection, type PendingReport, type ReportOutcome, type ReportRoute, sendReports } from "./hollow-reports.ts";

/** What the whole fleet has done so far; every node adds to the one shared object. */
export interface FleetCounters {
  /** Tasks seen assigned (desired running) for the first time: placement and delivery, before any report. */
  assignedSeen: number;
  reportsAccepted: number;
  runningAccepted: number;
  reportsRefused: number;
  reportFailures: number;
  registerFailures: number;
  heartbeats: number;
  heartbeatFailures: number;
  watchFailures: number;
  /** Tasks seen in state `lost`: their node was taken for dead while it was heartbeating. */
  lostSeen: number;
  /** The latest failure, as `kind: message`, so a reader can tell a refusal from a timeout. */
  lastError: string;
}

export function newCounters(): FleetCounters {
  return { assignedSeen: 0, reportsAccepted: 0, runningAccepted: 0, reportsRefused: 0, reportFailures: 0, registerFailures: 0, heartbeats: 0, heartbeatFailures: 0, watchFailures: 0, lostSeen: 0, lastError: "" };
}

/** A batch stays well under the manager's 1 MiB body limit (a report is ~150 bytes). */
const MAX_BATCH = 500;
/** The manager answers a long-poll after at most 30 s; past this the connection is taken for dead. */
const WATCH_WAIT_MS = 30_000;
const WATCH_DEADLINE_MS = WATCH_WAIT_MS + 15_000;

/**
 * The reports a hollow node owes for its assignments: `running` for a task it should run, `stopped` for
 * one it should not (or that was lost while the node was taken for dead), each once. `sent` remembers
 * what was already said per task and forgets tasks that are no longer assigned.
 */
export function hollowReports(assignments: Assignment[], sent: Map<string, TaskState>): PendingReport[] {
  const owed: PendingReport[] = [];
  const assigned = new Set<string>();
  for (const { task } of assignments) {
    assigned.add(task.id);
    const wanted: TaskState = task.desired === "running" && task.state !== "lost" ? "running" : "stopped";
    if (task.state === wanted || sent.get(task.id) === wanted) continue;
    sent.set(task.id, wanted);
    const containerId = wanted === "running" ? `hollow-${task.id}` : null;
    owed.push({ taskId: task.id, report: { state: wanted, message: `hollow node: ${wanted}`, containerId } });
  }
  for (const id of sent.keys()) if (!assigned.has(id)) sent.delete(id);
  return owed;
}

export class HollowNode {
  private connection: NodeConnection | null = null;
  private readonly sent = new Map<string, TaskState>();
  private readonly pending: PendingReport[] = [];
  private sending = false;
  private heartbeating = false;
  private running = 0;

  constructor(
    private readonly base: string,
    private readonly request: RegisterRequest,
    private readonly counters: FleetCounters,
    private readonly signal: AbortSignal,
  ) {}

  get node(): NodeConnection {
    if (!this.connection) throw new Error(`hollow node ${this.request.name} is not registered`);
    return this.connection;
  }

  /** Joins with the join token, retrying like the real agent while the manager does not answer; a refusal (4xx) is final. */
  async register(joinToken: string): Promise<void> {
    const client = new ApiClient(this.base, { token: joinToken, timeoutMs: 60_000 });
    const delay = new Backoff({ initialMs: 500 });
    for (;;) {
      try {
        const { node, credential } = await client.register(this.request);
        if (!credential) throw new Error(`the manager admitted ${this.request.name} without a credential`);
        client.useToken(credential);
        this.connection = { client, nodeId: node.id, credential };
        return;
      } catch (err) {
        if (this.signal.aborted || !(err instanceof ApiClientError) || (err.status >= 400 && err.status < 500)) throw err;
        this.failed("register", err);
        await delay.wait(this.signal);
      }
    }
  }

  /** One heartbeat, skipped while the last is still unanswered so a slow manager is not buried under them. */
  async heartbeat(): Promise<void> {
    if (this.heartbeating) return;
    this.heartbeating = true;
    const { client, nodeId } = this.node;
    const stats = { cpuPercent: Math.min(100, this.running * 0.5), memoryUsedMb: 512 + this.running * 4, diskUsedMb: 2_048, at: Date.now() };
    try {
      await client.heartbeat(nodeId, { stats });
      this.counters.heartbeats++;
    } catch (err) {
      if (!this.signal.aborted) this.failed("heartbeat", err);
    } finally {
      this.heartbeating = false;
    }
  }

  /** Long-polls the node's assignments until the fleet stops, answering each change with reports. */
  async watch(route: ReportRoute): Promise<void> {
    const { client, nodeId } = this.node;
    const feed = new AssignmentFeed(client);
    let index = "";
    const delay = new Backoff();
    while (!this.signal.aborted) {
      try {
        const answer = await feed.next(nodeId, index, WATCH_WAIT_MS, AbortSignal.any([this.signal, AbortSignal.timeout(WATCH_DEADLINE_MS)]));
        index = answer.index;
        delay.reset();
        this.running = answer.assignments.filter((a) => a.task.state === "running").length;
        this.counters.lostSeen += answer.assignments.filter((a) => a.task.state === "lost" && this.sent.get(a.task.id) !== "stopped").length;
        const owed = hollowReports(answer.assignments, this.sent);
        if (owed.length === 0) continue;
        this.counters.assignedSeen += owed.filter((r) => r.report.state === "running").length;
        this.pending.push(...owed);
        void this.flush(route);
      } catch (err) {
        if (this.signal.aborted) return;
        this.failed("watch", err);
        await delay.wait(this.signal);
      }
    }
  }

  /** Sends pending reports (batched per node when the route allows), retrying with backoff while the manager fails. */
  private async flush(route: ReportRoute): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    const delay = new Backoff();
    while (this.pending.length > 0 && !this.signal.aborted) {
      const outcome = await sendReports(route, this.node, this.pending.slice(0, route === "batch" ? MAX_BATCH : this.pending.length));
      this.pending.splice(0, outcome.settled);
      this.count(outcome);
      if (outcome.error === undefined) {
        delay.reset();
        continue;
      }
      if (this.signal.aborted) break;
      this.failed("report", outcome.error);
      await delay.wait(this.signal);
    }
    this.sending = false;
  }

  private failed(kind: "register" | "heartbeat" | "watch" | "report", err: unknown): void {
    this.counters[`${kind}Failures`]++;
    this.counters.lastError = `${kind}: ${err instanceof Error ? err.message : String(err)}`;
  }

  private count(outcome: ReportOutcome): void {
    this.counters.reportsAccepted += outcome.accepted.length;
    this.counters.runningAccepted += outcome.accepted.filter((r) => r.report.state === "running").length;
    this.counters.reportsRefused += outcome.refused;
  }
}
