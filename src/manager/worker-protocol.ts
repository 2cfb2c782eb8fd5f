import { BusyError, ConflictError, NotFoundError } from "../lib/errors.ts";
import { newId } from "../lib/ids.ts";
import type { Assignment, AssignmentsResponse, NodeEvent, NodeImages, RegisterRequest, TaskReportItem, TaskReportResult } from "../model/api-types.ts";
import type { Node, NodeStats } from "../model/node.ts";
import { isGone } from "../model/task-state.ts";
import { isShared } from "../store/shared-store.ts";
import { ChangeSet } from "./change-set.ts";
import type { ManagerContext } from "./context.ts";
import { finishDrainIfEmpty } from "./node-commands.ts";
import { applyTaskReports } from "./task-reports.ts";
import { TurnGate, type Turns } from "./turns.ts";
import type { UsageHistory } from "./usage-history.ts";

/** Longest a changed assignment list waits for the evaluations under way before it is answered. */
const SETTLE_MS = 1_000;
/** Reports committed in one transaction when many workers report at once (more wait for the next turn of the event loop). */
const GROUP_COMMIT_REPORTS = 50;
/**
 * Task writes per commit: each report is a change of its own, so a request of 1,000 reports is
 * committed in parts that fit one etcd transaction (at most 128 operations).
 */
const REPORTS_PER_COMMIT = 100;
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

/**
 * The manager's side of the join protocol: workers register, heartbeat, long-poll what should run
 * on them (served from memory) and report what happened, many tasks per request.
 */
export class WorkerProtocol {
  private readonly queued: { nodeId: string; reports: readonly TaskReportItem[]; since: number; resolve: (results: TaskReportResult[]) => void; reject: (err: Error) => void }[] = [];
  private readonly nextCommit = () => this.commitReports();
  private readonly answers: TurnGate;
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
  ) {
    this.answers = new TurnGate(turns, ANSWERS_PER_TURN);
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
      node.stats = stats;
      node.lastHeartbeat = now;
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
   * after SETTLE_MS), so a node gets one answer for a burst of placements, not one per step.
   */
  async assignments(nodeId: string, index: string, waitMs: number, signal?: AbortSignal): Promise<AssignmentsResponse> {
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
    const assignments: Assignment[] = [];
    for (const task of state.tasks.activeOn(nodeId)) {
      const spec = state.job(task.job)?.versions.get(task.jobVersion)?.spec;
      const group = spec?.tasks.find((g) => g.name === task.group);
      if (spec && group) assignments.push({ task, spec: group, jobType: spec.type });
    }
    return { index: watch.current(nodeId), assignments };
  }

  /**
   * Applies a batch of reports, in order, each answered on its own (refused ones are skipped). The
   * batches that arrive in one turn of the event loop, from many workers, are committed together in
   * one transaction (a group commit): with thousands of nodes, a transaction per request would cost
   * more than the reports. Applied at that commit, so each batch sees the state as it is then.
   */
  reportTasks(nodeId: string, reports: readonly TaskReportItem[]): Promise<TaskReportResult[]> {
    const now = this.ctx.now();
    const oldest = this.queued[0];
    if (oldest && now - oldest.since > REPORT_BACKLOG_MAX_WAIT_MS) {
      const waiting = this.queued.reduce((n, b) => n + b.reports.length, 0);
      return Promise.reject(new BusyError(`the manager has ${waiting} task reports waiting to be stored, the oldest for ${now - oldest.since} ms; send these again in a moment`));
    }
    return new Promise((resolve, reject) => {
      this.queued.push({ nodeId, reports, since: now, resolve, reject });
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
    // Whole requests, up to about GROUP_COMMIT_REPORTS reports: a bigger transaction would hold the event loop (and every other request) too long.
    let count = 0;
    const taken = this.queued.findIndex((b) => (count += b.reports.length) > GROUP_COMMIT_REPORTS);
    const batches = this.queued.splice(0, taken <= 0 ? (taken === 0 ? 1 : this.queued.length) : taken);
    if (this.queued.length > 0) this.turns.request(this.nextCommit);
    if (batches.length === 0) return;
    const now = this.ctx.now();
    let results: TaskReportResult[][];
    try {
      results = this.ctx.commit.together(() => {
        let changes = new ChangeSet(now);
        const applied = batches.map((b) => {
          const answers: TaskReportResult[] = [];
          for (let i = 0; i < b.reports.length; i += REPORTS_PER_COMMIT) {
            const part = b.reports.slice(i, i + REPORTS_PER_COMMIT);
            if (changes.tasks.size + part.length > REPORTS_PER_COMMIT) {
              this.ctx.commit(changes);
              changes = new ChangeSet(now);
            }
            answers.push(...applyTaskReports(changes, this.ctx.state, b.nodeId, part, this.ctx.metrics));
          }
          return answers;
        });
        this.ctx.commit(changes);
        const drained = new Set(batches.filter((_, i) => applied[i]?.some((r) => r.ok && isGone(r.state))).map((b) => b.nodeId));
        for (const nodeId of drained) finishDrainIfEmpty(this.ctx, nodeId);
        return applied;
      });
    } catch (err) {
      for (const b of batches) b.reject(err as Error);
      return;
    }
    batches.forEach((b, i) => b.resolve(results[i] as TaskReportResult[]));
  }
}
