import type {
  ApiErrorBody,
  AssignmentsResponse,
  ClusterEvent,
  HeartbeatRequest,
  ImageLoadResult,
  ImageOnNode,
  JobDetail,
  JobVersion,
  JobView,
  ListPage,
  ManagerView,
  NodeView,
  PlanResult,
  RegisterRequest,
  RegisterResponse,
  ServiceRoutes,
  ServiceView,
  SubmitResult,
  TaskDetail,
  TaskReportItem,
  TaskReportResult,
  TaskView,
  VolumeList,
} from "../model/api-types.ts";
import type { KeyringRotation, SecretPutResult, SecretView, TaskSecret } from "../model/secret.ts";
import type { IssuedToken, Token } from "../model/token.ts";

/** An API call that failed: `status` is 0 when the manager could not be reached at all. */
export class ApiClientError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Answers that say nothing was stored because managers raced for the same records: sent again, at most this many times, after 0.1 s, 0.2 s, 0.4 s… */
const WRITE_RACES = new Set(["write_conflict", "reloading"]);
const WRITE_RACE_RETRIES = 5;
const WRITE_RACE_BACKOFF_MS = 100;

/** Items per request when a list method pages through a whole list. */
export const LIST_PAGE_SIZE = 500;

type Query = Record<string, string | undefined>;

export interface ApiClientOptions {
  token?: string;
  /** PEM of the CA that signed the manager's certificate, for `https://` addresses. */
  ca?: string;
  /** Per-request timeout for calls that are not long-polls or streams. */
  timeoutMs?: number;
  /** Called when the client moves on to another manager (the one it used stopped answering). */
  onFailover?: (from: string, to: string) => void;
}

/**
 * Whether a request may be sent again when its fate is unknown (the manager took it, then did not
 * answer): reads, a job submit (storing the same spec again changes nothing), a heartbeat and a
 * registration (they say the same thing again), task reports (a repeated one is refused per item), and
 * a secret's value (the current value again changes nothing).
 */
function idempotent(method: string, path: string): boolean {
  if (method === "GET") return true;
  if (method === "PUT") return path.startsWith("/v1/secrets/");
  if (method !== "POST") return false;
  return path === "/v1/jobs" || path === "/v1/nodes/register" || /^\/v1\/nodes\/[^/]+\/(heartbeat|tasks)$/.test(path);
}

/**
 * Typed client of the manager's `/v1` API, shared by the CLI and the worker. Deliberately light:
 * it imports only types, so a CLI command does not load validation, SQLite or Docker code.
 *
 * It takes several managers (`http://m1:7600,http://m2:7600`) and keeps to one until it stops
 * answering. A request the manager never got (connection refused) goes to the next at once; one
 * whose fate is unknown (no answer in time, connection reset, a 503) goes to the next only if it is
 * idempotent — any other fails with a message saying it may have been applied, and the next call
 * goes to the next manager.
 */
export class ApiClient {
  private readonly bases: string[];
  private current = 0;
  private token: string | undefined;

  constructor(
    address: string,
    private readonly options: ApiClientOptions = {},
  ) {
    this.bases = address
      .split(",")
      .map((a) => a.trim())
      .filter((a) => a !== "")
      .map(normalizeAddress);
    if (this.bases.length === 0) throw new ApiClientError("no manager address given (set --addr or CUBE_ADDR)", 0, "unreachable");
    this.token = options.token;
  }

  /** The manager this client talks to now. */
  get base(): string {
    return this.bases[this.current] as string;
  }

  private moveOn(): void {
    if (this.bases.length === 1) return;
    const from = this.base;
    this.current = (this.current + 1) % this.bases.length;
    this.options.onFailover?.(from, this.base);
  }

  /** Changes the token later calls carry (a worker trades its join token for its node's credential). */
  useToken(token: string | undefined): void {
    this.token = token;
  }

  health(): Promise<{ status: string; role: string; version: string }> {
    return this.call("GET", "/v1/health");
  }

  submitJob(text: string, format: "yaml" | "json"): Promise<SubmitResult> {
    return this.call("POST", "/v1/jobs", { body: text, contentType: format === "yaml" ? "application/yaml" : "application/json" });
  }

  /** A dry run of submitJob: where each task would go, every node's score or why it was rejected. */
  plan(text: string, format: "yaml" | "json"): Promise<PlanResult> {
    return this.call("POST", "/v1/plan", { body: text, contentType: format === "yaml" ? "application/yaml" : "application/json" });
  }

  /** Every job, fetched a page at a time. */
  listJobs(): Promise<JobView[]> {
    return this.listAll<JobView>("/v1/jobs", "jobs");
  }

  getJob(name: string): Promise<JobDetail> {
    return this.call("GET", `/v1/jobs/${encodeURIComponent(name)}`);
  }

  stopJob(name: string, purge = false): Promise<JobView> {
    return this.call("DELETE", `/v1/jobs/${encodeURIComponent(name)}${purge ? "?purge=true" : ""}`);
  }

  scaleJob(name: string, group: string, count: number): Promise<SubmitResult> {
    return this.call("POST", `/v1/jobs/${encodeURIComponent(name)}/scale`, { json: { group, count } });
  }

  async jobVersions(name: string): Promise<JobVersion[]> {
    return (await this.call<{ versions: JobVersion[] }>("GET", `/v1/jobs/${encodeURIComponent(name)}/versions`)).versions;
  }

  revertJob(name: string, version: number): Promise<SubmitResult> {
    return this.call("POST", `/v1/jobs/${encodeURIComponent(name)}/revert`, { json: { version } });
  }

  stopTask(id: string): Promise<TaskView> {
    return this.call("POST", `/v1/tasks/${encodeURIComponent(id)}/stop`);
  }

  restartTask(id: string): Promise<{ restarted: string }> {
    return this.call("POST", `/v1/tasks/${encodeURIComponent(id)}/restart`);
  }

  exec(id: string, command: string[], timeoutMs?: number): Promise<{ exitCode: number; output: string }> {
    return this.call("POST", `/v1/tasks/${encodeURIComponent(id)}/exec`, { json: { command, ...(timeoutMs ? { timeoutMs } : {}) }, stream: true });
  }

  /** The cluster's event stream (server-sent events), filtered; read until the signal aborts. */
  async events(filter: { job?: string; node?: string; task?: string; type?: string }, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined));
    const response = await this.send("GET", `/v1/events?${query}`, { signal, stream: true });
    return response.body ?? new ReadableStream({ start: (c) => c.close() });
  }

  /** Every task matching the filter, fetched a page at a time. */
  listTasks(filter: { job?: string; node?: string; state?: string } = {}): Promise<TaskView[]> {
    return this.listAll<TaskView>("/v1/tasks", "tasks", filter);
  }

  /** The events the manager kept, oldest first, fetched a page at a time (the stream, `events`, brings the ones to come). */
  eventHistory(filter: { job?: string; node?: string; task?: string; type?: string } = {}): Promise<ClusterEvent[]> {
    return this.listAll<ClusterEvent>("/v1/events/history", "events", filter);
  }

  /** One page of a list (`next`: the token the page before answered with). */
  async page<T>(path: string, key: string, query: Query = {}, limit = LIST_PAGE_SIZE, next?: string): Promise<{ items: T[]; next: string | null }> {
    const params = new URLSearchParams(Object.entries({ ...query, limit: String(limit), next }).filter((e): e is [string, string] => e[1] !== undefined));
    const body = await this.call<ListPage & Record<string, T[]>>("GET", `${path}?${params}`);
    return { items: body[key] as T[], next: body.next };
  }

  /** Pages through a whole list, `limit` items per request. */
  async *pages<T>(path: string, key: string, query: Query = {}, limit = LIST_PAGE_SIZE): AsyncGenerator<T[]> {
    let next: string | undefined;
    do {
      const page: { items: T[]; next: string | null } = await this.page<T>(path, key, query, limit, next);
      yield page.items;
      next = page.next ?? undefined;
    } while (next !== undefined);
  }

  private async listAll<T>(path: string, key: string, query: Query = {}): Promise<T[]> {
    const all: T[] = [];
    for await (const items of this.pages<T>(path, key, query)) all.push(...items);
    return all;
  }

  getTask(id: string): Promise<TaskDetail> {
    return this.call("GET", `/v1/tasks/${encodeURIComponent(id)}`);
  }

  /** Every node, fetched a page at a time. */
  listNodes(): Promise<NodeView[]> {
    return this.listAll<NodeView>("/v1/nodes", "nodes");
  }

  drainNode(idOrName: string): Promise<NodeView> {
    return this.call("POST", `/v1/nodes/${encodeURIComponent(idOrName)}/drain`);
  }

  setNodeEligibility(idOrName: string, eligible: boolean): Promise<NodeView> {
    return this.call("POST", `/v1/nodes/${encodeURIComponent(idOrName)}/eligibility`, { json: { eligible } });
  }

  /** The task's container output as a byte stream. */
  async logs(id: string, options: { follow?: boolean; tail?: number; stderr?: boolean }, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const query = new URLSearchParams();
    if (options.follow) query.set("follow", "true");
    if (options.tail !== undefined) query.set("tail", String(options.tail));
    if (options.stderr) query.set("stderr", "true");
    const response = await this.send("GET", `/v1/tasks/${encodeURIComponent(id)}/logs?${query}`, { signal, stream: true });
    return response.body ?? new ReadableStream({ start: (c) => c.close() });
  }

  /** Which of the nodes (names or ids; none: every ready, eligible node) have the image, and its id on each. */
  imageNodes(image: string, nodes: readonly string[] = []): Promise<{ image: string; nodes: ImageOnNode[] }> {
    const query = new URLSearchParams([["image", image], ...nodes.map((n) => ["node", n])]);
    return this.call("GET", `/v1/images/nodes?${query}`);
  }

  /** Streams a `docker save` archive through the manager into one node's engine. */
  async loadImage(node: string, archive: ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<ImageLoadResult> {
    const response = await this.send("POST", `/v1/images/load?${new URLSearchParams({ node })}`, { body: archive, contentType: "application/x-tar", stream: true, signal });
    return (await response.json()) as ImageLoadResult;
  }

  /** The named volumes of every node (or of the named ones), with who uses each, and the nodes that could not be asked. */
  listVolumes(filter: { job?: string; nodes?: readonly string[] } = {}): Promise<VolumeList> {
    const query = new URLSearchParams([...(filter.job ? [["job", filter.job]] : []), ...(filter.nodes ?? []).map((n) => ["node", n])]);
    return this.call("GET", `/v1/volumes?${query}`);
  }

  /** Removes a job's volume and its data from every node that has it (or the named ones); a 409 while a task uses it. */
  removeVolume(job: string, name: string, nodes: readonly string[] = []): Promise<{ removed: { node: string; engineName: string }[] }> {
    const query = new URLSearchParams(nodes.map((n) => ["node", n]));
    return this.call("DELETE", `/v1/volumes/${encodeURIComponent(job)}/${encodeURIComponent(name)}?${query}`);
  }

  async listServices(): Promise<ServiceView[]> {
    return (await this.call<{ services: ServiceView[] }>("GET", "/v1/services")).services;
  }

  getService(name: string): Promise<ServiceView> {
    return this.call("GET", `/v1/services/${encodeURIComponent(name)}`);
  }

  /** With the join token, or with the node's own credential (see RegisterResponse). */
  register(request: RegisterRequest): Promise<RegisterResponse> {
    return this.call("POST", "/v1/nodes/register", { json: request });
  }

  createToken(role: string, name: string): Promise<IssuedToken> {
    return this.call("POST", "/v1/tokens", { json: { role, name } });
  }

  async listTokens(): Promise<Token[]> {
    return (await this.call<{ tokens: Token[] }>("GET", "/v1/tokens")).tokens;
  }

  revokeToken(id: string): Promise<Token> {
    return this.call("DELETE", `/v1/tokens/${encodeURIComponent(id)}`);
  }

  /** `timeoutMs`: a heartbeat that takes longer has failed (the connection may be dead). */
  heartbeat(nodeId: string, request: HeartbeatRequest, timeoutMs?: number): Promise<{ status: string; images?: string | null }> {
    return this.call("POST", `/v1/nodes/${nodeId}/heartbeat`, { json: request, timeoutMs });
  }

  /**
   * Long-polls until the node's assignments change past `index` (or `waitMs` passes). The manager
   * answers by then; `graceMs` later the call gives up, so a connection that died silently (a network
   * partition) cannot hold the watch forever. `delta`: only what changed since `index` (AssignmentFeed
   * keeps the whole list from those).
   */
  assignments(nodeId: string, index: string, waitMs: number, signal?: AbortSignal, options: { delta?: boolean; graceMs?: number } = {}): Promise<AssignmentsResponse> {
    const { delta = false, graceMs = 5_000 } = options;
    const query = new URLSearchParams({ index, wait: `${waitMs}ms`, ...(delta ? { delta: "1" } : {}) });
    return this.call("GET", `/v1/nodes/${nodeId}/assignments?${query}`, { signal, timeoutMs: waitMs + graceMs });
  }

  async managers(): Promise<ManagerView[]> {
    return (await this.call<{ managers: ManagerView[] }>("GET", "/v1/managers")).managers;
  }

  /** The whole state as a snapshot file's text (admin). */
  async saveSnapshot(): Promise<string> {
    return (await this.send("GET", "/v1/snapshot", { stream: true })).text();
  }

  /** Replaces the whole state with a snapshot file's (admin); refused, changing nothing, when it is not one. */
  restoreSnapshot(text: string): Promise<{ restored: Record<string, number> }> {
    return this.call("POST", "/v1/snapshot", { body: text, contentType: "application/x-ndjson", timeoutMs: 300_000 });
  }

  /** Long-polls until the service catalog changes past `index` (or `waitMs` passes); gives up `graceMs` later, like assignments. */
  serviceRoutes(nodeId: string, index: string, waitMs: number, signal?: AbortSignal, graceMs = 5_000): Promise<ServiceRoutes> {
    const query = new URLSearchParams({ index, wait: `${waitMs}ms` });
    return this.call("GET", `/v1/nodes/${nodeId}/services?${query}`, { signal, timeoutMs: waitMs + graceMs });
  }

  /** Every secret (names, versions, users; never values), fetched a page at a time. */
  listSecrets(): Promise<SecretView[]> {
    return this.listAll<SecretView>("/v1/secrets", "secrets");
  }

  /** Stores the value as the secret's next version (admin); the jobs using it roll onto it. */
  putSecret(name: string, value: Uint8Array<ArrayBuffer>): Promise<SecretPutResult> {
    return this.call("PUT", `/v1/secrets/${encodeURIComponent(name)}`, { body: value, contentType: "application/octet-stream" });
  }

  removeSecret(name: string): Promise<SecretView> {
    return this.call("DELETE", `/v1/secrets/${encodeURIComponent(name)}`);
  }

  rotateKeyring(): Promise<KeyringRotation> {
    return this.call("POST", "/v1/keyring/rotate", { timeoutMs: 300_000 });
  }

  /** The values of the secrets a task assigned to this node needs (its worker's credential only). */
  async taskSecrets(nodeId: string, taskId: string): Promise<TaskSecret[]> {
    return (await this.call<{ secrets: TaskSecret[] }>("GET", `/v1/nodes/${nodeId}/tasks/${encodeURIComponent(taskId)}/secrets`)).secrets;
  }

  /** Several task reports in one request, applied in order; each is answered on its own. */
  async reportTasks(nodeId: string, reports: TaskReportItem[]): Promise<TaskReportResult[]> {
    return (await this.call<{ results: TaskReportResult[] }>("POST", `/v1/nodes/${nodeId}/tasks`, { json: { reports } })).results;
  }

  private async call<T>(method: string, path: string, init: SendOptions = {}): Promise<T> {
    const response = await this.send(method, path, init);
    return (await response.json()) as T;
  }

  private async send(method: string, path: string, init: SendOptions): Promise<Response> {
    const retryable = idempotent(method, path.split("?")[0] as string);
    let raced = 0;
    let tried = 1;
    for (;;) {
      try {
        const response = await this.sendOnce(method, path, init);
        if (response.ok) return response;
        const error = await toError(response, method, path);
        // Refused before anything was stored (another manager wrote the same records first, or this one is reading the store again): the same request, in a moment.
        if (WRITE_RACES.has(error.code) && raced < WRITE_RACE_RETRIES && !(init.body instanceof ReadableStream)) {
          await Bun.sleep(WRITE_RACE_BACKOFF_MS * 2 ** raced++);
          continue;
        }
        if (response.status !== 503 || !retryable || tried >= this.bases.length) throw error;
      } catch (err) {
        const failure = err instanceof ApiClientError ? err : null;
        if (!failure || failure.status !== 0 || tried >= this.bases.length || failure.code === "tls") throw err;
        if (failure.code !== "refused" && !retryable) {
          this.moveOn();
          throw new ApiClientError(`${failure.message}; the request may or may not have been applied: check before sending it again`, 0, "unknown_outcome");
        }
      }
      tried++;
      this.moveOn();
    }
  }

  private async sendOnce(method: string, path: string, init: SendOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | undefined;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers["content-type"] = "application/json";
    } else if (init.body !== undefined) {
      body = init.body;
      headers["content-type"] = init.contentType ?? "application/json";
    }
    const timeout = init.stream ? undefined : AbortSignal.timeout(init.timeoutMs ?? this.options.timeoutMs ?? 15_000);
    const signal = timeout && init.signal ? AbortSignal.any([timeout, init.signal]) : (timeout ?? init.signal);
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { method, headers, body, signal, ...(this.options.ca ? { tls: { ca: this.options.ca } } : {}) });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw fetchFailure(err, this.base);
    }
    return response;
  }
}

interface SendOptions {
  json?: unknown;
  body?: string | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>;
  contentType?: string;
  signal?: AbortSignal;
  /** No client-side timeout: log and event streams last as long as they need. */
  stream?: boolean;
  /** This call's own timeout, instead of the client's. */
  timeoutMs?: number;
}

/** OpenSSL's codes for a certificate that does not verify (wrong CA, self-signed, wrong host, expired). */
const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/;

function fetchFailure(err: unknown, base: string): ApiClientError {
  const e = err as { code?: string; name?: string; message?: string };
  if (e.code !== undefined && CERTIFICATE_ERROR.test(e.code)) {
    return new ApiClientError(
      `refusing the Cube manager at ${base}: its TLS certificate does not verify (${e.code}: ${e.message}); give the cluster's CA with --tls-ca or CUBE_TLS_CA (cube tls init makes one)`,
      0,
      "tls",
    );
  }
  const refused = e.code === "ConnectionRefused" || e.code === "ECONNREFUSED";
  const reason = e.name === "TimeoutError" ? "no answer in time" : refused ? "connection refused" : (e.message ?? String(err));
  return new ApiClientError(`cannot reach the Cube manager at ${base}: ${reason} (is it running? set --addr or CUBE_ADDR)`, 0, refused ? "refused" : "unreachable");
}

async function toError(response: Response, method: string, path: string): Promise<ApiClientError> {
  const text = await response.text();
  try {
    const { error } = JSON.parse(text) as ApiErrorBody;
    return new ApiClientError(error.message, response.status, error.code, error.details);
  } catch {
    return new ApiClientError(`${method} ${path} failed with HTTP ${response.status}: ${text.slice(0, 200)}`, response.status, "http");
  }
}

/** Accepts `host`, `host:port` or a full URL; the port defaults to 7600. */
export function normalizeAddress(address: string): string {
  const withScheme = /^https?:\/\//.test(address) ? address : `http://${address}`;
  const url = new URL(withScheme);
  if (!url.port && !/^https?:\/\/[^/]*:\d+/.test(withScheme)) url.port = "7600";
  return url.origin;
}
