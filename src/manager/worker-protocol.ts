import { BusyError, ConflictError, NotFoundError } from "../lib/errors.ts";
import { newId } from "../lib/ids.ts";
import type { AssignmentsResponse, NodeEvent, NodeImages, RegisterRequest, TaskReportItem, TaskReportResult } from "../model/api-types.ts";
import type { Node, NodeStats } from "../model/node.ts";
import { isGone } from "../model/task-state.ts";
import { isShared } from "../store/shared-store.ts";
import { AssignmentDeltas } from "./assignment-deltas.ts";
import { ChangeSet } from "./change-set.ts";
import type { ManagerContext } from "./context.ts";
import { finishDrainIfEmpty } from "./node-commands.ts";
import { applyTaskReports } from "./task-reports.ts";
import { TurnGate, type Turns } from "./turns.ts";
import type { UsageHistory } from "./usage-history.ts";

/** Longest a changed assignment list waits for the evaluations under way before it is answered. */
const SETTLE_MS = 1_000;
/**
 * Reports applied per commit: each report is a change of its own, so a commit fits one etcd
 * transaction (at most 128 operations).
 */
const REPORTS_PER_COMMIT = 50;
/**
 * How long one turn of report commits runs (then the event loop serves other requests and work):
 * whole requests from many workers, or parts of one with many reports, in one store transaction.
 */
const REPORT_TURN_MS = 5;
/**
 * Longest the oldest queued report may have waited before new ones are turned away with a 503 `busy`.
 * A queue that waits longer is growing faster than it is committed; soon the workers' requests would
 * time out while queued (the client gives up after 15 s), be sent again and fill the queue further,
 * until no report is answered in time at all. Under the clients' timeout with room for the commit;
 * workers send refused reports again after a backoff.
 */
const REPORT_BACKLOG_MAX_WAIT_MS = 8_000;
/** Changed assignment lists answered per turn of the event loop (see TurnGate). */
const ANSWERS_PER_TURN = 20;

/** A worker's request of reports, committed in parts: answered once the last is. */
interface QueuedReports {
  nodeId: string;
  reports: readonly TaskReportItem[];
  /** The answers to the reports committed so far (the first `answers.length`). */
  answers: TaskReportResult[];
  since: number;
  resolve: (results: TaskReportResult[]) => void;
  reject: (err: Error) => void;
}

/**
 * The manager's side of the join protocol: workers register, heartbeat, long-poll what should run
 * on them (served from memory) and report what happened, many tasks per request.
 */
export class WorkerProtocol {
  private readonly queued: QueuedReports[] = [];
  private readonly nextCommit = () => this.commitReports();
  private readonly answers: TurnGate;
  private readonly deltas: AssignmentDeltas;
  /** When each node's heartbeat was last shared with the other managers (a shared store). */
  private readonly sharedAt = new Map<string, number>();

  constructor(
    private readonly ctx: ManagerContext,
    private readonly usage: UsageHistory,
    /** Resolves when no job waits for evaluation, or after the time given. */
    private readonly settled: (maxMs: number) => Promise<void>,
    /** A node's heartbeat is shared at most this often: a third of the TTL keeps a new leader's view within it. */
    private readonly shareHeartbeatEveryMs: number,
    /** Where report group commits and answers take their turn with the manager's other work between requests. */
    private readonly turns: Turns,
    /** Times a turn of report commits (REPORT_TURN_MS). */
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.answers = new TurnGate(turns, ANSWERS_PER_TURN);
    this.deltas = new AssignmentDeltas(ctx.watch);
  }

  register(request: RegisterRequest): Node {
    const { state, log } = this.ctx;
    const byName = state.nodeByName(request.name);
    if (byName && byName.id !== request.id) {
      throw new ConflictError(
        `node name "${request.name}" belongs to node ${byName.id} (${byName.status}); restart that worker with its own data dir, or give this one another --name`,
      );
    }
    const existing = request.id === undefined ? undefined : state.node(request.id);
    const changes = new ChangeSet(this.ctx.now());
    const node: Node = {
      id: existing?.id ?? request.id ?? newId(),
      name: request.name,
      address: request.address,
      datacenter: request.datacenter,
      labels: request.labels,
      capacity: request.capacity,
      stats: existing?.stats ?? null,
      status: existing?.status === "draining" ? "draining" : "ready",
      eligible: existing?.eligible ?? true,
      lastHeartbeat: changes.now,
      registeredAt: existing?.registeredAt ?? changes.now,
      version: request.version,
    };
    changes.putNode(node);
    changes.publish({ at: changes.now, type: "node", node: node.id, message: `node ${node.name} ${existing ? "rejoined" : "joined"} (${node.address})` });
    this.ctx.commit(changes);
    // A worker that registers again may have lost what it knew: it gets its assignments at once.
    this.ctx.watch.bump(node.id);
    log.info(existing ? "node rejoined" : "node joined", { node: node.name, id: node.id, address: node.address });
    return node;
  }

  /**
   * Stats and the time of the heartbeat stay in memory; a node that was down and is back is written
   * down. `events`: what the worker did on its own (see NodeEvent), published as node events.
   */
  heartbeat(nodeId: string, stats: NodeStats, events: readonly NodeEvent[] = [], images?: NodeImages): { status: Node["status"]; images: string | null } {
    const node = this.ctx.state.node(nodeId);
    if (!node) throw new NotFoundError(`node ${nodeId} is not registered; register it first`);
    const now = this.ctx.now();
    const published = events.map((event) => ({ at: event.at, type: "node" as const, node: nodeId, task: event.task, message: `node ${node.name}: ${event.message}` }));
    for (const event of published) this.ctx.bus.publish(event);
    // The other managers' event streams show them too.
    const { store } = this.ctx;
    if (isShared(store)) store.shareEvents(published);
    if (node.status === "down") {
      const changes = new ChangeSet(now);
      changes.putNode({ ...node, stats, lastHeartbeat: now, status: "ready" });
      changes.publish({ at: now, type: "node", node: nodeId, message: `node ${node.name} is ready again` });
      this.ctx.commit(changes);
      this.ctx.log.info("node back", { node: node.name });
    } else {
      this.ctx.state.recordHeartbeat(node, now, stats);
      this.share(nodeId, now, stats);
    }
    const current = this.ctx.state.node(nodeId) as Node;
    this.usage.record(current);
    if (images) this.ctx.images.report(nodeId, images);
    return { status: current.status, images: this.ctx.images.digestOf(nodeId) };
  }

  private share(nodeId: string, now: number, stats: NodeStats): void {
    const { store } = this.ctx;
    if (!isShared(store) || now - (this.sharedAt.get(nodeId) ?? 0) < this.shareHeartbeatEveryMs) return;
    this.sharedAt.set(nodeId, now);
    store.shareHeartbeat(nodeId, now, stats);
  }

  /**
   * Where a worker's long-poll lands: what should run on the node, after waiting for a change past
   * `index`. A change found while jobs still wait for evaluation is answered once they are done (or
   * after SETTLE_MS), so a node gets one answer for a burst of placements, not one per step. With
   * `delta`, only what changed since `index` (see AssignmentDeltas).
   */
  async assignments(nodeId: string, index: string, waitMs: number, signal?: AbortSignal, delta = false): Promise<AssignmentsResponse> {
    const { state, watch } = this.ctx;
    if (!state.node(nodeId)) throw new NotFoundError(`node ${nodeId} is not registered; register it first`);
    await watch.wait(nodeId, index, waitMs, signal);
    if (watch.current(nodeId) !== index) {
      await this.settled(SETTLE_MS);
      await this.answers.pass();
    }
    // A worker acts on what is stored: a shared store sends writes after the code that made them (or reloads, should it refuse one).
    const { store } = this.ctx;
    if (isShared(store)) await Promise.race([store.settled(), Bun.sleep(SETTLE_MS)]);
    return this.deltas.answer(nodeId, index, delta, state.tasks, (task) => {
      const spec = state.job(task.job)?.versions.get(task.jobVersion)?.spec;
      const group = spec?.tasks.find((g) => g.name === task.group);
      return spec && group ? { task, spec: group, jobType: spec.type } : undefined;
    });
  }

  /**
   * Applies a batch of reports, in order, each answered on its own (refused ones are skipped). The
   * batches that arrive in one turn of the event loop, from many workers, are committed together in
   * one transaction (a group commit): with thousands of nodes, a transaction per request would cost
   * more than the reports; a request of many reports is committed in parts, over several turns.
   * Applied at that commit, so each report sees the state as it is then.
   */
  reportTasks(nodeId: string, reports: readonly TaskReportItem[]): Promise<TaskReportResult[]> {
    const now = this.ctx.now();
    const oldest = this.queued[0];
    if (oldest && now - oldest.since > REPORT_BACKLOG_MAX_WAIT_MS) {
      const waiting = this.queued.reduce((n, b) => n + b.reports.length - b.answers.length, 0);
      return Promise.reject(new BusyError(`the manager has ${waiting} task reports waiting to be stored, the oldest for ${now - oldest.since} ms; send these again in a moment`));
    }
    return new Promise((resolve, reject) => {
      this.queued.push({ nodeId, reports, answers: [], since: now, resolve, reject });
      this.turns.request(this.nextCommit);
    });
  }

  /** Commits every report still queued: the manager stops, nothing waits for the next turn. */
  stop(): void {
    while (this.queued.length > 0) this.commitReports();
    this.turns.cancel(this.nextCommit);
    this.answers.open();
  }

  private commitReports(): void {
    this.turns.cancel(this.nextCommit);
    if (this.queued.length === 0) return;
    const now = this.ctx.now();
    const until = this.clock() + REPORT_TURN_MS;
    /** The requests at the front of the queue that this turn applied reports of. */
    let touched = 0;
    try {
      this.ctx.commit.together(() => {
        const drained = new Set<string>();
        // Commits of REPORTS_PER_COMMIT reports, whole requests or parts of one, until the turn's time is up.
        for (let next = 0; next < this.queued.length && this.clock() < until; ) {
          const changes = new ChangeSet(now);
          for (let room = REPORTS_PER_COMMIT; room > 0 && next < this.queued.length; ) {
            const batch = this.queued[next] as QueuedReports;
            const from = batch.answers.length;
            const part = batch.reports.slice(from, from + room);
            const answers = applyTaskReports(changes, this.ctx.state, batch.nodeId, part, this.ctx.metrics);
            if (answers.some((r) => r.ok && isGone(r.state))) drained.add(batch.nodeId);
            batch.answers.push(...answers);
            room -= part.length;
            touched = next + 1;
            if (batch.answers.length === batch.reports.length) next++;
          }
          this.ctx.commit(changes);
        }
        for (const nodeId of drained) finishDrainIfEmpty(this.ctx, nodeId);
      });
    } catch (err) {
      // The request is answered with the error, its parts committed in earlier turns included (the worker sends it again; those are refused then as stale).
      for (const batch of this.queued.splice(0, touched)) batch.reject(err as Error);
      if (this.queued.length > 0) this.turns.request(this.nextCommit);
      return;
    }
    const unfinished = this.queued.findIndex((b) => b.answers.length < b.reports.length);
    for (const batch of this.queued.splice(0, unfinished === -1 ? this.queued.length : unfinished)) batch.resolve(batch.answers);
    if (this.queued.length > 0) this.turns.request(this.nextCommit);
  }
}
