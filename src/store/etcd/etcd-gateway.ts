/**
 * A small etcd v3 client over etcd's JSON gateway (plain fetch, no gRPC, nothing to embed in the
 * binary): ranges with paging at one revision, transactions with compares, leases and a streamed
 * prefix watch. Keys and values are strings here; the gateway wants them base64 and int64s as strings.
 */
const enc = (s: string) => Buffer.from(s).toString("base64");
const dec = (b64: string | undefined) => (b64 === undefined ? "" : Buffer.from(b64, "base64").toString());

/** base64 of the end of the range of keys that start with `prefix` (etcd's convention: its last byte below 0xff, plus one). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    const byte = bytes[i] as number;
    if (byte < 0xff) return Buffer.concat([bytes.subarray(0, i), Buffer.from([byte + 1])]).toString("base64");
  }
  return "AA==";
}

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  lease: string;
}
interface RawKv {
  key: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  lease?: string;
}
const toKv = (kv: RawKv): KeyValue => ({
  key: dec(kv.key),
  value: dec(kv.value),
  createRevision: Number(kv.create_revision ?? 0),
  modRevision: Number(kv.mod_revision ?? 0),
  lease: kv.lease ?? "0",
});
interface Header {
  revision?: string;
}

/** etcd answered, but not with success. `unavailable`: no leader, no quorum, no answer in time — worth a retry later (a 503 to our callers). */
export class EtcdError extends Error {
  constructor(
    message: string,
    readonly unavailable: boolean,
  ) {
    super(message);
  }
}

export type Compare =
  | { key: string; target: "CREATE" | "MOD"; revision: number }
  | { key: string; target: "LEASE"; lease: string };
export type Op = { put: { key: string; value: string; lease?: string } } | { delete: { key: string; prefix?: boolean } } | { range: { key: string } };

function rawCompare(c: Compare): object {
  const base = { key: enc(c.key), target: c.target, result: "EQUAL" };
  if (c.target === "LEASE") return { ...base, lease: c.lease };
  return c.target === "CREATE" ? { ...base, create_revision: String(c.revision) } : { ...base, mod_revision: String(c.revision) };
}

function rawOp(op: Op): object {
  if ("put" in op) return { request_put: { key: enc(op.put.key), value: enc(op.put.value), lease: op.put.lease ?? "0" } };
  if ("delete" in op) return { request_delete_range: { key: enc(op.delete.key), ...(op.delete.prefix ? { range_end: prefixEnd(op.delete.key) } : {}) } };
  return { request_range: { key: enc(op.range.key) } };
}

export interface WatchEvent {
  type: "put" | "delete";
  kv: KeyValue;
}

export interface WatchHandlers {
  events(events: WatchEvent[]): void;
  /** History from the watch's revision was compacted away: the caller must list again and watch on from there. */
  compacted(): void;
}

interface WatchResult {
  header?: Header;
  events?: { type?: "DELETE"; kv: RawKv }[];
  compact_revision?: string;
  canceled?: boolean;
  cancel_reason?: string;
}

export class EtcdGateway {
  private preferred = 0;

  /**
   * @param endpoints client URLs of the members (`http://h1:2379`)
   * @param timeoutMs deadline of one request: shorter than etcd's own (5 s + 2 × election timeout), so a
   *   write stuck on a dead member fails fast and the caller tries again
   */
  constructor(
    readonly endpoints: string[],
    private readonly timeoutMs = 2_000,
  ) {}

  /**
   * POSTs to the preferred member; a member that refuses the connection (the request never left) is
   * skipped for the next. Anything else is the caller's to handle: a write that timed out or lost its
   * connection may have been applied.
   */
  async call<T>(path: string, body: unknown, timeoutMs = this.timeoutMs): Promise<T & { header?: Header }> {
    const failures: string[] = [];
    for (let attempt = 0; attempt < this.endpoints.length; attempt++) {
      const index = (this.preferred + attempt) % this.endpoints.length;
      const endpoint = this.endpoints[index] as string;
      let response: Response;
      try {
        response = await fetch(`${endpoint}${path}`, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "ECONNREFUSED" || code === "ConnectionRefused") {
          failures.push(`${endpoint}: connection refused`);
          continue;
        }
        this.preferred = (index + 1) % this.endpoints.length;
        const reason = (err as Error).name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : (err as Error).message;
        throw new EtcdError(`etcd at ${endpoint} failed ${path}: ${reason}`, true);
      }
      this.preferred = index;
      const answer = (await response.json().catch(() => ({ error: `HTTP ${response.status}` }))) as T & { error?: string; code?: number };
      if (answer.error !== undefined) {
        if (response.status === 503 || answer.code === 14) this.preferred = (index + 1) % this.endpoints.length;
        throw new EtcdError(`etcd ${path}: ${answer.error}`, response.status >= 500 || answer.code === 14 || answer.code === 4);
      }
      return answer;
    }
    throw new EtcdError(`no etcd member could be reached (${failures.join("; ")})`, true);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const answer = await this.call<{ kvs?: RawKv[] }>("/v3/kv/range", { key: enc(key) });
    return answer.kvs?.[0] && toKv(answer.kvs[0]);
  }

  /** Every key under `prefix`, read page by page at one revision (a consistent snapshot). */
  async list(prefix: string, limit = 500): Promise<{ kvs: KeyValue[]; revision: number }> {
    const kvs: KeyValue[] = [];
    let revision = 0;
    let from = prefix;
    for (;;) {
      const answer = await this.call<{ kvs?: RawKv[]; more?: boolean }>("/v3/kv/range", {
        key: enc(from),
        range_end: prefixEnd(prefix),
        limit: String(limit),
        revision: String(revision),
      });
      revision ||= Number(answer.header?.revision);
      const page = (answer.kvs ?? []).map(toKv);
      kvs.push(...page);
      if (!answer.more || page.length === 0) return { kvs, revision };
      from = `${(page[page.length - 1] as KeyValue).key}\0`;
    }
  }

  async put(key: string, value: string, lease?: string): Promise<number> {
    const answer = await this.call("/v3/kv/put", { key: enc(key), value: enc(value), lease: lease ?? "0" });
    return Number(answer.header?.revision);
  }

  /**
   * All compares hold → `success` ops run, else `failure` ops; atomically. Its deadline is half the
   * others': a write stuck on a member whose leader died fails after about an etcd election, not two.
   */
  async txn(compare: Compare[], success: Op[], failure: Op[] = []) {
    const answer = await this.call<{ succeeded?: boolean; responses?: { response_range?: { kvs?: RawKv[] } }[] }>(
      "/v3/kv/txn",
      { compare: compare.map(rawCompare), success: success.map(rawOp), failure: failure.map(rawOp) },
      this.timeoutMs / 2,
    );
    return { succeeded: answer.succeeded ?? false, revision: Number(answer.header?.revision), ranges: (answer.responses ?? []).map((r) => (r.response_range?.kvs ?? []).map(toKv)) };
  }

  async grantLease(ttlSeconds: number): Promise<string> {
    return (await this.call<{ ID: string }>("/v3/lease/grant", { TTL: String(ttlSeconds) })).ID;
  }

  /** Renews the lease; answers the TTL it now has, 0 when it had already expired (it cannot come back). */
  async keepAlive(lease: string, timeoutMs?: number): Promise<number> {
    return Number((await this.call<{ result?: { TTL?: string } }>("/v3/lease/keepalive", { ID: lease }, timeoutMs)).result?.TTL ?? 0);
  }

  async revokeLease(lease: string): Promise<void> {
    await this.call("/v3/lease/revoke", { ID: lease }).catch((err: Error) => {
      if (!/lease not found/.test(err.message)) throw err;
    });
  }

  /**
   * Watches keys under `prefix` from `fromRevision` until `signal` aborts, re-opening the stream on the
   * next member when it breaks, is cancelled or stays silent past `silenceMs`, from the revision after
   * the last event seen: nothing is missed or repeated. `hasleader` makes a member that lost its leader
   * (the minority side of a partition, or a cluster without quorum) end the stream instead of going
   * quietly stale; a frozen member is caught by the silence deadline.
   */
  async watch(prefix: string, fromRevision: number, handlers: WatchHandlers, signal: AbortSignal, silenceMs = 10_000): Promise<void> {
    let next = fromRevision;
    let pauseMs = 100;
    while (!signal.aborted) {
      const endpoint = this.endpoints[this.preferred % this.endpoints.length] as string;
      const stream = new AbortController();
      const abort = () => stream.abort();
      signal.addEventListener("abort", abort);
      let silence = setTimeout(abort, silenceMs);
      try {
        const response = await fetch(`${endpoint}/v3/watch`, {
          method: "POST",
          signal: stream.signal,
          headers: { "Grpc-Metadata-hasleader": "true" },
          body: JSON.stringify({ create_request: { key: enc(prefix), range_end: prefixEnd(prefix), start_revision: String(next), progress_notify: true } }),
        });
        const reader = (response.body as ReadableStream<Uint8Array>).getReader();
        const decoder = new TextDecoder();
        let buffered = "";
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
          clearTimeout(silence);
          silence = setTimeout(abort, silenceMs);
          buffered += decoder.decode(chunk.value, { stream: true });
          for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            const message = JSON.parse(line) as { result?: WatchResult; error?: { message: string } };
            const result = message.result;
            if (!result) throw new Error(message.error?.message ?? line);
            if (result.compact_revision && result.compact_revision !== "0") return handlers.compacted();
            if (result.canceled) throw new Error(`watch cancelled: ${result.cancel_reason ?? "no reason given"}`);
            pauseMs = 100;
            const events = result.events ?? [];
            if (events.length === 0) continue;
            handlers.events(events.map((e) => ({ type: e.type === "DELETE" ? "delete" : "put", kv: toKv(e.kv) })));
            next = Number((events[events.length - 1] as { kv: RawKv }).kv.mod_revision) + 1;
          }
        }
        throw new Error("the member closed the stream");
      } catch {
        if (signal.aborted) return;
        this.preferred = (this.preferred + 1) % this.endpoints.length;
        // Grows while no member serves a watch (no quorum), so the loop never spins.
        await Bun.sleep(pauseMs);
        pauseMs = Math.min(pauseMs * 2, 2_000);
      } finally {
        clearTimeout(silence);
        signal.removeEventListener("abort", abort);
      }
    }
  }
}
