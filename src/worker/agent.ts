import { ApiClient, ApiClientError } from "../client/api-client.ts";
import type { ContainerSummary, Driver, ImageEngine, NetworkEngine, RecoveredTask } from "../driver/driver.ts";
import { Backoff } from "../lib/backoff.ts";
import { ConflictError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { secretHash } from "../lib/secret-hash.ts";
import type { Assignment, RegisterResponse, ServiceRoutes } from "../model/api-types.ts";
import { formatDuration } from "../model/duration.ts";
import type { Resources } from "../model/job.ts";
import { taskName } from "../model/task.ts";
import { EngineSweep } from "./engine-sweep.ts";
import { ImageInventory } from "./image-inventory.ts";
import { ManagerLink } from "./manager-link.ts";
import { NodeIdentity } from "./node-identity.ts";
import { machineCapacity, UsageSampler } from "./node-stats.ts";
import { ReportQueue } from "./report-queue.ts";
import { SecretDelivery } from "./secret-delivery.ts";
import { DEFAULT_SECRETS_DIR, SecretFiles } from "./secret-files.ts";
import { NodeServices } from "./services/node-services.ts";
import { RouteWatch } from "./services/route-watch.ts";
import type { Holder } from "./sweep-plan.ts";
import { TaskRunner } from "./task-runner.ts";
import { WorkerMetrics } from "./worker-metrics.ts";

export interface WorkerOptions {
  managerAddress: string;
  driver: Driver;
  /** The engine's images, reported to the manager (where a task's image is) and loaded into by `cube image push`. */
  images?: ImageEngine;
  /** The engine's default bridge, whose address the node's services pin. */
  network?: NetworkEngine;
  dataDir: string;
  name: string;
  datacenter: string;
  labels: Record<string, string>;
  /** Base URL the manager uses to reach this worker's API. */
  address: string;
  version: string;
  log: Logger;
  /** Admits a node that has no credential yet; the manager prints it and keeps it in its data dir. */
  joinToken?: string;
  /** PEM of the CA the manager's certificate must verify against (https managers). */
  ca?: string;
  heartbeatIntervalMs?: number;
  stopTimeoutMs?: number;
  /** How long the container of a finished task is kept for its logs (default 1 h). */
  finishedRetentionMs?: number;
  /** Time between sweeps of the engine for containers no task owns (default 5 s). */
  sweepIntervalMs?: number;
  /** Overrides what systeminformation reports (tests and `cube dev` slices of one machine). */
  capacity?: Resources;
  /** Run the node's DNS server and service proxies, so containers resolve NAME.service.cube (default true). */
  services?: boolean;
  /** A tmpfs directory for the values of the tasks' secrets (default /dev/shm/cube-secrets). */
  secretsDir?: string;
}

/** How often tasks with `disconnect.stop_after` are checked against the time since the manager last answered. */
const DISCONNECT_CHECK_MS = 500;

/**
 * The node agent: joins the manager, heartbeats, long-polls its assignments and makes the local
 * containers match them, and sweeps the engine for containers nobody owns. Every loop converges from
 * the current state, so a lost message only delays.
 */
export class WorkerAgent {
  nodeId: string;
  readonly metrics: WorkerMetrics;
  /** What the engine's images are, told to the manager with heartbeats; null without an image engine. */
  readonly images: ImageInventory | null;
  private readonly identity: NodeIdentity;
  private readonly client: ApiClient;
  private readonly reports: ReportQueue;
  private readonly runners = new Map<string, TaskRunner>();
  private readonly sampler: UsageSampler;
  private readonly abort = new AbortController();
  private readonly link: ManagerLink;
  private readonly sweep: EngineSweep;
  private readonly routeWatch: RouteWatch;
  private readonly routeListeners = new Set<(routes: ServiceRoutes) => void>();
  private routes: ServiceRoutes | null = null;
  private services: NodeServices | null = null;
  private readonly secrets: SecretDelivery;
  private disconnectTimer: ReturnType<typeof setInterval> | null = null;
  /** Containers found on the engine at start, by task id, until the first assignments decide their fate. */
  private recovered: Map<string, RecoveredTask> | null = null;
  private capacity: Resources | null = null;
  /** Containers of tasks that ended here (completed or failed), kept a while so their logs stay readable. */
  private readonly retained = new Map<string, { containerId: string; timer: ReturnType<typeof setTimeout> }>();

  constructor(private readonly options: WorkerOptions) {
    // Several managers (--join=m1,m2,m3): when the client moves to another, the watch moves with it at once.
    this.client = new ApiClient(options.managerAddress, { ca: options.ca, onFailover: (from, to) => this.link.managerChanged(from, to) });
    this.metrics = new WorkerMetrics({ tasks: () => this.tasks(), driver: options.driver });
    this.images = options.images ? new ImageInventory(options.images, options.log.child("images")) : null;
    this.identity = new NodeIdentity(options.dataDir);
    this.nodeId = this.identity.nodeId;
    this.reports = new ReportQueue(this.client, () => this.nodeId, options.log.child("reports"));
    this.sampler = new UsageSampler(options.dataDir);
    this.link = new ManagerLink({
      client: this.client,
      nodeId: () => this.nodeId,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3_000,
      stats: () => this.sampler.sample(),
      onAssignments: (assignments) => this.reconcile(assignments),
      rejoin: () => this.register(),
      reconnected: () => this.reports.retryNow(),
      images: () => this.images?.report() ?? null,
      log: options.log,
    });
    this.secrets = new SecretDelivery(new SecretFiles(options.secretsDir ?? DEFAULT_SECRETS_DIR, () => this.nodeId), (taskId) => this.client.taskSecrets(this.nodeId, taskId));
    this.sweep = new EngineSweep({
      driver: options.driver,
      nodeId: () => this.nodeId,
      intervalMs: options.sweepIntervalMs ?? 5_000,
      stopTimeoutMs: this.stopTimeoutMs,
      holderOf: (taskId, containerId) => this.holderOf(taskId, containerId),
      notice: (listing, listedAt) => this.noticeListing(listing, listedAt),
      acted: (action) => this.link.record(`${action.action === "remove" ? "removed" : "stopped"} container ${action.containerId.slice(0, 12)}: ${action.reason}`, action.taskId || undefined),
      log: options.log.child("sweep"),
    });
    this.routeWatch = new RouteWatch({ client: this.client, nodeId: () => this.nodeId, onRoutes: (routes) => this.noticeRoutes(routes), log: options.log.child("services") });
  }

  /** What the manager shows to call this worker's task routes; null until the node has a credential. */
  get managerKey(): string | null {
    const credential = this.identity.credential;
    return credential === null ? null : secretHash(credential);
  }

  get taskCount(): number {
    return [...this.runners.values()].filter((r) => !r.finished).length;
  }

  private get stopTimeoutMs(): number {
    return this.options.stopTimeoutMs ?? 5_000;
  }

  async start(): Promise<void> {
    await this.options.driver.ping();
    this.capacity = this.options.capacity ?? (await machineCapacity(this.options.dataDir));
    const found = await this.options.driver.recover(this.nodeId);
    this.recovered = new Map(found.map((r) => [r.taskId, r]));
    this.services = await this.startServices();
    await this.register();
    this.link.start();
    this.routeWatch.start();
    this.disconnectTimer = setInterval(() => this.stopDisconnectedTasks(), DISCONNECT_CHECK_MS);
  }

  /** Calls `listener` with every service catalog the manager sends (at once with the last one, if any); returns how to stop. */
  onRoutes(listener: (routes: ServiceRoutes) => void): () => void {
    this.routeListeners.add(listener);
    if (this.routes) listener(this.routes);
    return () => this.routeListeners.delete(listener);
  }

  /** The container of a task on this node, running or kept after it finished. */
  containerOf(taskId: string): string | null {
    return this.runners.get(taskId)?.container ?? this.retained.get(taskId)?.containerId ?? null;
  }

  /** Task runners with a container on this node (running or between restarts), for metrics. */
  tasks(): { taskId: string; name: string; containerId: string | null; finished: boolean }[] {
    return [...this.runners.values()].map((r) => ({ taskId: r.taskId, name: r.name, containerId: r.container, finished: r.finished }));
  }

  /** Restarts a running task's container in place (`cube task restart`); a ConflictError when it is not running here. */
  async restartTask(taskId: string): Promise<void> {
    const runner = this.runners.get(taskId);
    if (!runner) throw new ConflictError(`task ${taskId} has no runner on this node yet (or any more); only a running task can be restarted`);
    await runner.restart();
  }

  /** Leaves containers running (a restarted worker re-adopts them) unless `stopTasks`. */
  async stop(stopTasks = false): Promise<void> {
    this.abort.abort();
    if (this.disconnectTimer) clearInterval(this.disconnectTimer);
    await this.routeWatch.stop();
    await this.link.stop();
    await this.sweep.stop();
    for (const { timer } of this.retained.values()) clearTimeout(timer);
    if (stopTasks) {
      await Promise.all([...this.retained.values()].map(({ containerId }) => this.destroy(containerId)));
      await Promise.all([...this.runners.values()].map((r) => r.stop("worker shutting down")));
      await Promise.race([this.reports.flushed(), Bun.sleep(2_000)]);
    }
    await this.services?.stop(stopTasks);
    this.reports.close();
  }

  /**
   * The node's DNS server and service proxies. Without them (turned off, or the host does not let the
   * worker set them up: not root, no iproute2) tasks still run, with the host's resolvers, and cannot
   * resolve NAME.service.cube.
   */
  private async startServices(): Promise<NodeServices | null> {
    const { log, dataDir } = this.options;
    if (this.options.services === false) return null;
    try {
      const bridge = (await this.options.network?.defaultBridge().catch((err: Error) => void log.warn("cannot find the engine's default bridge", { error: err.message }))) ?? null;
      return await NodeServices.start({ nodeId: this.nodeId, dataDir, bridge, log: log.child("services") });
    } catch (err) {
      log.error("services are not available in this node's containers: NAME.service.cube will not resolve", { error: (err as Error).message });
      return null;
    }
  }

  private noticeRoutes(routes: ServiceRoutes): void {
    this.routes = routes;
    void this.services?.apply(routes);
    for (const listener of this.routeListeners) listener(routes);
  }

  private async register(): Promise<void> {
    const { name, address, datacenter, labels, version, log } = this.options;
    const backoff = new Backoff({ initialMs: 500 });
    while (!this.abort.signal.aborted) {
      try {
        const { node, credential } = await this.join({ id: this.nodeId, name, address, datacenter, labels, capacity: this.capacity as Resources, version });
        if (credential) this.identity.saveCredential(credential);
        this.client.useToken(this.identity.credential ?? undefined);
        log.info("joined", { manager: this.client.base, node: node.name, id: node.id });
        return;
      } catch (err) {
        // A refused registration (name taken, bad request) or a manager whose certificate does not verify will not heal by retrying.
        if (err instanceof ApiClientError && ((err.status >= 400 && err.status < 500) || err.code === "tls")) throw err;
        log.warn("cannot join yet, retrying", { manager: this.client.base, error: (err as Error).message, retryInMs: backoff.delayMs });
        await backoff.wait(this.abort.signal);
      }
    }
  }

  /**
   * Registers with the node's own credential; with the join token when it has none yet, or when the
   * manager no longer knows the credential (its state was reset).
   */
  private async join(request: Parameters<ApiClient["register"]>[0]): Promise<RegisterResponse> {
    const { joinToken } = this.options;
    const credential = this.identity.credential;
    try {
      this.client.useToken(credential ?? joinToken);
      return await this.client.register(request);
    } catch (err) {
      const refused = err instanceof ApiClientError && err.status === 401;
      if (refused && credential && joinToken) {
        this.options.log.warn("the manager does not know this node's credential; joining with the join token");
        this.client.useToken(joinToken);
        return await this.client.register(request);
      }
      if (refused) {
        const hint = "start it with --join-token (the manager keeps it in its data dir, file join-token)";
        throw new ApiClientError(`the manager refused this worker: ${(err as Error).message}; ${hint}`, 401, "unauthorized");
      }
      throw err;
    }
  }

  /** Makes local containers match the assignments: start what is missing, stop what is unwanted. */
  private async reconcile(assignments: Assignment[]): Promise<void> {
    const wanted = new Map(assignments.map((a) => [a.task.id, a]));
    for (const assignment of assignments) {
      const { task } = assignment;
      const runner = this.runners.get(task.id);
      if (task.desired === "running" && task.state !== "lost") {
        if (runner) continue;
        const created = this.newRunner(assignment);
        created.start(this.recovered?.get(task.id));
        this.recovered?.delete(task.id);
      } else if (runner) {
        // A lost task is no endpoint any more and its replacement runs elsewhere: nothing to drain.
        void runner.stop(task.message || "stop requested", true, task.state === "lost" ? 0 : (assignment.spec.shutdownDelayMs ?? 0));
      } else {
        // Never ran here under this process (or its runner is gone): the engine sweep removes whatever the engine holds.
        this.reports.push(task.id, { state: "stopped", message: task.state === "lost" ? "stopped after its node came back" : task.message || "stopped", containerId: null });
      }
    }
    for (const [id, runner] of this.runners) {
      if (wanted.has(id)) continue;
      this.runners.delete(id);
      if (runner.finished && runner.container) this.retain(id, runner.container);
      else void runner.stop("no longer assigned", false);
    }
    // What the first assignments did not claim is swept like any container nobody owns; from now on the sweep runs.
    this.recovered = null;
    this.sweep.start();
    this.sweep.request();
    this.sweepSecrets();
  }

  /** Secret values of tasks no runner holds (left by a worker that was killed, say) leave the tmpfs. */
  private sweepSecrets(): void {
    try {
      const removed = this.secrets.files.sweep(new Set(this.runners.keys()));
      if (removed.length > 0) this.options.log.info("removed the secrets of tasks gone from this node", { tasks: removed.length });
    } catch (err) {
      this.options.log.warn("could not sweep the secrets of tasks gone from this node", { error: (err as Error).message });
    }
  }

  private holderOf(taskId: string, containerId: string): Holder {
    const runner = this.runners.get(taskId);
    if (runner?.live) return "run";
    if (runner?.finished && runner.container === containerId) return "keep";
    if (this.retained.get(taskId)?.containerId === containerId) return "keep";
    return "none";
  }

  private noticeListing(listing: ContainerSummary[], listedAt: number): void {
    const byTask = new Map(listing.map((c) => [c.taskId, c]));
    for (const runner of this.runners.values()) if (runner.live) runner.noticeListing(byTask.get(runner.taskId), listedAt);
  }

  /** Tasks that asked for it (disconnect.stop_after) stop once the manager has been silent that long. */
  private stopDisconnectedTasks(): void {
    const silent = this.link.silentForMs;
    for (const runner of this.runners.values()) {
      const limit = runner.stopAfterDisconnectMs;
      if (limit === null || !runner.live || silent < limit) continue;
      const reason = `no contact with the manager for ${formatDuration(silent)} (disconnect.stop_after ${formatDuration(limit)})`;
      this.options.log.warn("stopping a task cut off from the manager", { task: runner.name, silentMs: silent });
      this.link.record(`stopped task ${runner.name}: ${reason}`, runner.taskId);
      void runner.stop(reason);
    }
  }

  private retain(taskId: string, containerId: string): void {
    const timer = setTimeout(() => {
      this.retained.delete(taskId);
      void this.destroy(containerId);
    }, this.options.finishedRetentionMs ?? 3_600_000);
    this.retained.set(taskId, { containerId, timer });
  }

  private newRunner(assignment: Assignment): TaskRunner {
    const runner = new TaskRunner(assignment, {
      driver: this.options.driver,
      nodeId: this.nodeId,
      report: (taskId, report) => this.reports.push(taskId, report),
      log: this.options.log.child(taskName(assignment.task)),
      stopTimeoutMs: this.stopTimeoutMs,
      dns: this.services?.dnsServers,
      metrics: this.metrics,
      imageUnavailable: (image, message) => this.images?.pullFailed(image, message),
      secrets: this.secrets,
    });
    this.runners.set(assignment.task.id, runner);
    return runner;
  }

  private async destroy(containerId: string): Promise<void> {
    try {
      await this.options.driver.stop(containerId, this.stopTimeoutMs);
      await this.options.driver.destroy(containerId);
    } catch (err) {
      this.options.log.warn("could not remove container", { container: containerId.slice(0, 12), error: (err as Error).message });
    }
  }
}
