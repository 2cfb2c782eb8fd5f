import { ConflictError, NotFoundError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { renderMetrics } from "../lib/metrics.ts";
import type { ClusterEvent, ManagerView, NodeEvent, NodeImages, RegisterRequest, TaskReportItem } from "../model/api-types.ts";
import { type ContainerPolicy, LOCKED_DOWN } from "../model/container-policy.ts";
import type { JobSpec } from "../model/job.ts";
import { DEFAULT_MAX_TASKS_PER_JOB } from "../model/job-limits.ts";
import type { NodeStats } from "../model/node.ts";
import { taskName } from "../model/task.ts";
import type { TokenRole } from "../model/token.ts";
import type { Algorithm } from "../scheduler/index.ts";
import type { Store } from "../store/index.ts";
import { isShared, type MirrorChanges, type SharedEvent } from "../store/shared-store.ts";
import { countRecords, parseSnapshot, snapshotLines } from "../store/snapshot.ts";
import { AssignmentWatch } from "./assignment-watch.ts";
import { ClusterState } from "./cluster-state.ts";
import { actOn, type CommitDeps, committer, reloadAll } from "./commit.ts";
import type { ManagerContext } from "./context.ts";
import type { ControlPlane, EventFilter, PageRequest, Principal, TaskQuery } from "./control-plane.ts";
import { EvalQueue } from "./eval-queue.ts";
import { Evaluator } from "./evaluator.ts";
import { EventBus } from "./event-bus.ts";
import { GarbageCollector, type GarbageCounts } from "./garbage-collector.ts";
import { ImageCatalog } from "./image-catalog.ts";
import { JobCommands } from "./job-commands.ts";
import { JobTimers } from "./job-timers.ts";
import { fileKey, type KeyEncryptionKey } from "./key-encryption-key.ts";
import { Keyring } from "./keyring.ts";
import { ManagerMetrics, type RequestLabels } from "./manager-metrics.ts";
import { NodeCommands } from "./node-commands.ts";
import { joinNode } from "./node-join.ts";
import { NodeLiveness } from "./node-liveness.ts";
import { Queries } from "./queries.ts";
import { applyRemote } from "./remote-changes.ts";
import { SecretCommands } from "./secret-commands.ts";
import { ServiceDirectory } from "./service-directory.ts";
import { Tokens } from "./tokens.ts";
import { Turns } from "./turns.ts";
import { UsageHistory } from "./usage-history.ts";
import { WorkerProtocol } from "./worker-protocol.ts";

export interface ManagerOptions {
  store: Store;
  log: Logger;
  /** This manager's name in `GET /v1/managers` (default "manager"). */
  name?: string;
  algorithm?: Algorithm;
  heartbeatTtlMs?: number;
  /** Forget finished tasks and dead jobs after this long (default 1 h), keeping this many versions per job (default 10). */
  gcAfterMs?: number;
  keepVersions?: number;
  /** What tasks may ask of their hosts (--allow); default: nothing beyond an ordinary container. */
  containerPolicy?: ContainerPolicy;
  /** Tasks one job may ask for, all groups together (default 10,000). */
  maxTasksPerJob?: number;
  /**
   * What wraps the keyring's data keys (the server loads it from the data dir, or from --unlock's
   * passphrase: keyring-unlock.ts); default: a random key that lives as long as the manager.
   */
  keyEncryptionKey?: KeyEncryptionKey;
  now?: () => number;
  /** The monotonic clock (ms) that bounds a turn of report commits or of garbage collection (default performance.now; tests make time pass by hand). */
  turnClock?: () => number;
  /** Called with each job evaluated (tests count evaluations). */
  onEvaluate?: (job: string) => void;
}

/** Every job is evaluated again this often, in case a change was missed (Kubernetes' resync period). */
const RESYNC_MS = 5 * 60_000;
/** A job whose evaluation failed is tried again after this long. */
const RETRY_MS = 1_000;

/**
 * The control plane. This file is its lifecycle: it loads the in-memory state from the store, wires
 * the parts (commands, queries, worker protocol, evaluation, liveness, GC) and owns their timers; as
 * a ControlPlane it only hands each call to the part that answers it.
 */
export class Manager implements ControlPlane {
  /** Tokens are the server's to bootstrap (bootstrap-tokens.ts); the API reaches them through the ControlPlane. */
  readonly tokens: Tokens;
  private readonly ctx: ManagerContext;
  private readonly usage = new UsageHistory();
  /** Evaluation passes, report group commits and garbage collection take turns between requests. */
  private readonly turns = new Turns();
  private readonly queue: EvalQueue;
  private readonly timers: JobTimers;
  private readonly queries: Queries;
  private readonly jobs: JobCommands;
  private readonly nodes: NodeCommands;
  private readonly workers: WorkerProtocol;
  private readonly liveness: NodeLiveness;
  private readonly garbage: GarbageCollector;
  private readonly services: ServiceDirectory;
  private readonly secrets: SecretCommands;
  private resyncTimer: ReturnType<typeof setInterval> | null = null;
  private readonly commitDeps: CommitDeps;
  private readonly name: string;
  private address = "";
  private readonly startedAt: number;

  constructor(options: ManagerOptions) {
    const now = options.now ?? Date.now;
    const log = options.log;
    const algorithm = options.algorithm ?? "binpack";
    const state = ClusterState.load(options.store);
    const bus = new EventBus();
    const watch = new AssignmentWatch();
    const metrics = new ManagerMetrics(state);
    // A node that got an image may run tasks that waited for it.
    const images = new ImageCatalog(() => {
      for (const job of state.tasks.blockedJobs()) this.queue.mark(job);
    });
    this.timers = new JobTimers((job) => this.queue.mark(job), now);
    this.queue = new EvalQueue(
      (job) => evaluator.evaluate(job),
      (job, err) => {
        log.error("evaluation failed", { job, error: err.message, stack: err.stack });
        this.timers.set(job, now() + RETRY_MS);
      },
      (run) => commit.together(run),
      this.turns,
    );
    this.commitDeps = { store: options.store, state, bus, watch, queue: this.queue };
    const commit = committer(this.commitDeps);
    this.name = options.name ?? "manager";
    this.startedAt = now();
    this.ctx = { store: options.store, state, commit, bus, watch, metrics, images, log, now };
    const evaluator = new Evaluator({ state, commit, timers: this.timers, mark: (job) => this.queue.mark(job), carryOn: (job) => this.queue.carryOn(job), metrics, images, algorithm, log: log.child("evaluator"), now, onEvaluate: options.onEvaluate, secretKept: (name, version) => options.store.getSecret(name)?.versions.some((v) => v.version === version) ?? false });
    this.tokens = new Tokens(options.store, now);
    this.queries = new Queries(this.ctx);
    this.services = new ServiceDirectory(this.ctx);
    const limits = { policy: options.containerPolicy ?? LOCKED_DOWN, maxTasksPerJob: options.maxTasksPerJob ?? DEFAULT_MAX_TASKS_PER_JOB, algorithm };
    this.jobs = new JobCommands(this.ctx, limits, this.queries, (spec) => this.services.refuseTaken(spec));
    this.nodes = new NodeCommands(this.ctx, this.queries);
    const heartbeatTtlMs = options.heartbeatTtlMs ?? 10_000;
    this.workers = new WorkerProtocol(this.ctx, this.usage, (maxMs) => this.queue.idle(maxMs), heartbeatTtlMs / 3, this.turns, options.turnClock);
    this.liveness = new NodeLiveness({ ...this.ctx, log: log.child("nodes") }, heartbeatTtlMs);
    this.garbage = new GarbageCollector(this.ctx, { afterMs: options.gcAfterMs ?? 3_600_000, keepVersions: options.keepVersions ?? 10 }, log.child("gc"), this.turns, options.turnClock);
    const keyring = new Keyring(options.keyEncryptionKey ?? fileKey(crypto.getRandomValues(new Uint8Array(32))));
    this.secrets = new SecretCommands({ ...this.ctx, log: log.child("secrets") }, keyring);
  }

  /**
   * With its own store, the manager leads at once. With a shared one it follows what the other
   * managers store and campaigns; it leads (evaluation, liveness, GC) only while elected.
   * `address`: where the other managers' clients reach this one (`GET /v1/managers`).
   */
  start(address = ""): void {
    this.address = address;
    // Every manager serves the service catalog (and workers' route watches), leader or not.
    this.services.start();
    const { store } = this.ctx;
    if (!isShared(store)) return this.lead();
    this.queue.follow(true);
    store.follow({
      changed: (changes, events) => this.applyRemote(changes, events),
      reloaded: () => {
        this.tokens.forget();
        reloadAll(this.commitDeps);
      },
    });
    store.elect(address, { lead: () => this.lead(), follow: () => this.follow() });
  }

  /** Starts the leader's timers and evaluates every job once: what changed while no manager led is caught up. */
  private lead(): void {
    this.queue.follow(false);
    this.liveness.start();
    this.garbage.start();
    this.resyncTimer = setInterval(() => this.resync(), RESYNC_MS);
    this.resync();
  }

  private follow(): void {
    this.liveness.stop();
    this.garbage.stop();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = null;
    this.timers.clear();
    this.queue.follow(true);
  }

  private applyRemote(changes: MirrorChanges, events: SharedEvent[]): void {
    const { store, bus } = this.ctx;
    if (!isShared(store)) return;
    for (const id of changes.tokens) this.tokens.forget(id);
    const effects = applyRemote(this.ctx.state, store, changes);
    for (const event of events) bus.publish(event);
    actOn(effects, this.commitDeps);
  }

  stop(): void {
    this.workers.stop();
    this.services.stop();
    this.follow();
    this.timers.stop();
    this.queue.stop();
    this.turns.stop();
  }

  /** Resolves once the writes made so far are stored; rejects with a 503 or 409 when the store refused one. */
  durable(): Promise<void> {
    return this.ctx.store.durable();
  }

  snapshot(): Iterable<string> {
    return snapshotLines(this.ctx.store, this.ctx.now());
  }

  /**
   * Checks the whole file first (a 400, nothing changed, when it is not a snapshot, or when its secrets
   * are sealed under a key-encryption key this manager does not have), then replaces everything and
   * reloads memory.
   */
  async restoreSnapshot(text: string): Promise<Record<string, number>> {
    const { records } = parseSnapshot(text);
    for (const r of records) if (r.kind === "keyring") await this.secrets.refuseSealedElsewhere(r.keyring);
    this.ctx.store.replaceAll(records);
    await this.ctx.store.durable();
    this.tokens.forget();
    reloadAll(this.commitDeps);
    this.ctx.log.warn("state replaced from a snapshot", countRecords(records));
    return countRecords(records);
  }

  managers(): ManagerView[] {
    const { store } = this.ctx;
    if (!isShared(store)) return [{ name: this.name, address: this.address, leader: true, startedAt: this.startedAt, lastSeenAt: this.ctx.now() }];
    const { managers, leader } = store.managers();
    return managers.map((m) => ({ ...m, leader: m.name === leader }));
  }

  /** Evaluates now every job that is marked or due by the clock, and waits for it; for tests that need the placement done. */
  reconcileNow(): void {
    this.timers.fireDue();
    this.queue.drain();
  }

  /** One liveness pass now (tests move a clock of their own). */
  checkLiveness(): void {
    this.liveness.check();
  }

  /** One garbage collection pass now, in one go. */
  collectGarbage(): GarbageCounts {
    return this.garbage.collect();
  }

  /** A timed garbage collection pass (a few jobs per turn of the event loop), as its timer starts one; resolves once it ended. */
  startGarbagePass(): Promise<GarbageCounts> {
    return this.garbage.startPass();
  }

  /** The in-memory state, for tests that compare it with the store. */
  get state(): ClusterState {
    return this.ctx.state;
  }

  /** Marks every job for evaluation (at start, then every RESYNC_MS, in case a change was missed). */
  resync(): void {
    for (const name of this.ctx.state.jobNames()) this.queue.mark(name);
  }

  submitJob(spec: JobSpec) {
    return this.jobs.submitJob(spec);
  }
  plan(spec: JobSpec) {
    return this.jobs.plan(spec);
  }
  stopJob(name: string, purge: boolean) {
    return this.jobs.stopJob(name, purge);
  }
  scaleJob(name: string, group: string, count: number) {
    return this.jobs.scaleJob(name, group, count);
  }
  revertJob(name: string, version: number) {
    return this.jobs.revertJob(name, version);
  }
  listJobs(page?: PageRequest) {
    return this.queries.listJobs(page);
  }
  getJob(name: string) {
    return this.queries.getJob(name);
  }
  jobVersions(name: string) {
    return this.queries.jobVersions(name);
  }
  listTasks(query: TaskQuery, page?: PageRequest) {
    return this.queries.listTasks(query, page);
  }
  getTask(idOrPrefix: string) {
    return this.queries.getTask(idOrPrefix);
  }
  stopTask(idOrPrefix: string) {
    return this.jobs.stopTask(idOrPrefix);
  }
  listNodes(page?: PageRequest) {
    return this.queries.listNodes(page);
  }
  getNode(idOrName: string) {
    return this.queries.getNode(idOrName);
  }
  drainNode(idOrName: string) {
    return this.nodes.drain(idOrName);
  }
  setNodeEligibility(idOrName: string, eligible: boolean) {
    return this.nodes.setEligibility(idOrName, eligible);
  }
  nodeUsage(nodeId: string) {
    return this.usage.samples(nodeId);
  }
  summary() {
    return this.queries.summary();
  }
  subscribe(listener: (event: ClusterEvent) => void) {
    return this.ctx.bus.subscribe(listener);
  }
  eventHistory(filter: EventFilter, page?: PageRequest) {
    return this.queries.eventHistory(filter, page);
  }
  joinNode(principal: Principal, request: RegisterRequest) {
    return joinNode((r) => this.workers.register(r), this.tokens, principal, request);
  }
  heartbeat(nodeId: string, stats: NodeStats, events?: readonly NodeEvent[], images?: NodeImages) {
    return this.workers.heartbeat(nodeId, stats, events, images);
  }
  imageTargets(nodes: readonly string[]) {
    return this.queries.imageTargets(nodes);
  }
  imageLoaded(nodeId: string, refs: readonly string[]) {
    this.ctx.images.loaded(nodeId, refs);
  }
  assignments(nodeId: string, index: string, waitMs: number, signal?: AbortSignal, delta = false) {
    return this.workers.assignments(nodeId, index, waitMs, signal, delta);
  }
  reportTasks(nodeId: string, reports: readonly TaskReportItem[]) {
    return this.workers.reportTasks(nodeId, reports);
  }
  listServices() {
    return this.services.list();
  }
  getService(name: string) {
    return this.services.get(name);
  }
  volumeNodes(nodes: readonly string[]) {
    return this.queries.volumeNodes(nodes);
  }
  volumeUsers(job: string, volume: string, nodeId: string) {
    return this.queries.volumes.usersOf(job, volume, nodeId);
  }
  serviceRoutes(nodeId: string, index: string, waitMs: number, signal?: AbortSignal) {
    if (!this.ctx.state.node(nodeId)) throw new NotFoundError(`node ${nodeId} is not registered; register it first`);
    return this.services.watchRoutes(index, waitMs, signal);
  }
  taskLocation(idOrPrefix: string) {
    const task = this.queries.getTask(idOrPrefix);
    if (!task.nodeId) throw new ConflictError(`task ${taskName(task)} is not placed on a node yet: ${task.message}`);
    const node = this.ctx.state.node(task.nodeId);
    if (!node) throw new NotFoundError(`node ${task.nodeId} of task ${taskName(task)} no longer exists`);
    return { task, node: this.queries.getNode(node.id) };
  }
  workerKey(nodeId: string) {
    return this.tokens.workerKey(nodeId);
  }
  listSecrets(page?: PageRequest) {
    return this.secrets.list(page);
  }
  getSecret(name: string) {
    return this.secrets.get(name);
  }
  putSecret(name: string, value: Uint8Array) {
    return this.secrets.put(name, value);
  }
  removeSecret(name: string) {
    return this.secrets.remove(name);
  }
  rotateKeyring() {
    return this.secrets.rotateKeyring();
  }
  taskSecrets(nodeId: string, taskId: string) {
    return this.secrets.taskSecrets(nodeId, taskId);
  }
  verifyToken(secret: string) {
    return this.tokens.verify(secret);
  }
  listTokens() {
    return this.tokens.list();
  }
  createToken(role: TokenRole, name: string) {
    return this.tokens.create(role, name);
  }
  revokeToken(id: string) {
    return this.tokens.revoke(id);
  }
  renderMetrics() {
    return renderMetrics(this.ctx.metrics.registry);
  }
  observeRequest(labels: RequestLabels, seconds: number) {
    this.ctx.metrics.request(labels, seconds);
  }
}
