/**
 * HTTP requests passed between two threads as messages: the API's front thread, which owns the
 * listening socket (api-front.ts), hands the requests it does not serve itself to the manager's
 * thread, which answers them with its Hono app. Bodies go both ways as streams of chunks, at most
 * WINDOW bytes ahead of what the other side has read, so a big upload or a followed log stream never
 * piles up in memory; a client that goes away aborts the request's signal on the other side.
 */

/** How far a body's sender may run ahead of its reader. */
const WINDOW = 1 << 20;

export type BridgeMessage =
  | { k: "req"; id: number; method: string; url: string; headers: [string, string][]; body: Uint8Array | null; streamed: boolean }
  /** An answer; its body follows as chunks when `streamed`, else it is `body` (or none). */
  | { k: "res"; id: number; status: number; headers: [string, string][]; streamed: boolean; body?: Uint8Array }
  /** A chunk of a streamed body: `up` the request's, else the response's. */
  | { k: "chunk"; id: number; up: boolean; chunk: Uint8Array }
  | { k: "end"; id: number; up: boolean; error?: string }
  /** The reader of a body has read `read` bytes of it so far. */
  | { k: "ack"; id: number; up: boolean; read: number }
  /** The reader stopped reading: the client went away (`up` false) or the handler did not want the request's body. */
  | { k: "cancel"; id: number; up: boolean };

type Post = (message: BridgeMessage) => void;

/** A message carries headers as pairs (each Set-Cookie its own). */
function pairsOf(headers: Headers): [string, string][] {
  const pairs: [string, string][] = [];
  headers.forEach((value, name) => pairs.push([name, value]));
  return pairs;
}

/** Sends a body's chunks while the reader is less than WINDOW bytes behind; `cancel` stops it. */
class Sender {
  private sent = 0;
  private read = 0;
  private wake: (() => void) | null = null;
  private cancelled = false;

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly post: (message: { k: "chunk"; chunk: Uint8Array } | { k: "end"; error?: string }) => void,
  ) {}

  async run(): Promise<void> {
    try {
      for (;;) {
        while (this.sent - this.read >= WINDOW && !this.cancelled) await new Promise<void>((resolve) => (this.wake = resolve));
        if (this.cancelled) return;
        const { done, value } = await this.reader.read();
        if (this.cancelled) return;
        if (done) return this.post({ k: "end" });
        this.sent += value.byteLength;
        this.post({ k: "chunk", chunk: value });
      }
    } catch (err) {
      if (!this.cancelled) this.post({ k: "end", error: (err as Error).message });
    }
  }

  acked(read: number): void {
    this.read = read;
    this.wake?.();
    this.wake = null;
  }

  cancel(): void {
    this.cancelled = true;
    this.wake?.();
    this.wake = null;
    void this.reader.cancel().catch(() => undefined);
  }
}

/** The reading side of a body: a stream fed by chunk messages, which tells the sender how much it read. */
class Receiver {
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private received = 0;
  private acked = 0;
  private done = false;

  constructor(ack: (read: number) => void, cancel: () => void) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        // Called whenever what waits to be read falls below the high-water mark: the reader took the rest.
        pull: (controller) => {
          const read = this.received - Math.max(0, WINDOW / 2 - (controller.desiredSize ?? 0));
          if (read > this.acked) ack((this.acked = read));
        },
        cancel: () => {
          if (!this.done) cancel();
          this.done = true;
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: WINDOW / 2 }),
    );
  }

  chunk(chunk: Uint8Array): void {
    if (this.done) return;
    this.received += chunk.byteLength;
    this.controller.enqueue(chunk);
  }

  end(error?: string): void {
    if (this.done) return;
    this.done = true;
    if (error === undefined) this.controller.close();
    else this.controller.error(new Error(error));
  }
}

/** Bodies this size or smaller, with their length given, go in the request's message. */
const INLINE_BODY_BYTES = 1 << 20;

/** A request the front thread passed on: how to answer its caller, and its bodies under way. */
interface Forwarded {
  answer?: (response: Response) => void;
  fail?: (err: Error) => void;
  body?: Receiver;
  upload?: Sender;
}

/** The front thread's side: `forward` sends a request to the other thread and resolves with its answer. */
export class BridgeClient {
  private nextId = 1;
  private readonly open = new Map<number, Forwarded>();

  constructor(private readonly post: Post) {}

  async forward(request: Request): Promise<Response> {
    const id = this.nextId++;
    const entry: Forwarded = {};
    this.open.set(id, entry);
    const answered = new Promise<Response>((resolve, reject) => {
      entry.answer = resolve;
      entry.fail = reject;
    });
    request.signal.addEventListener("abort", () => this.abandon(id), { once: true });
    const length = Number(request.headers.get("content-length") ?? Number.NaN);
    const inline = request.body === null || (length <= INLINE_BODY_BYTES && !request.headers.has("transfer-encoding"));
    const body = request.body === null ? null : inline ? new Uint8Array(await request.arrayBuffer()) : null;
    if (!this.open.has(id)) throw new Error("the client went away");
    this.post({ k: "req", id, method: request.method, url: request.url, headers: pairsOf(request.headers), body, streamed: !inline });
    if (!inline && request.body) {
      entry.upload = new Sender(request.body.getReader(), (m) => this.post({ ...m, id, up: true }));
      void entry.upload.run();
    }
    return answered;
  }

  receive(message: BridgeMessage): void {
    const entry = this.open.get(message.id);
    if (!entry) return;
    switch (message.k) {
      case "res": {
        let body: BodyInit | null = (message.body as BodyInit | undefined) ?? null;
        if (message.streamed) {
          entry.body = new Receiver(
            (read) => this.post({ k: "ack", id: message.id, up: false, read }),
            () => this.abandon(message.id),
          );
          body = entry.body.stream;
        } else this.open.delete(message.id);
        entry.answer?.(new Response(body, { status: message.status, headers: message.headers }));
        break;
      }
      case "chunk":
        entry.body?.chunk(message.chunk);
        break;
      case "end":
        // The answer is whole: whatever of the request's body the handler did not read, it will not.
        entry.body?.end(message.error);
        entry.upload?.cancel();
        this.open.delete(message.id);
        break;
      case "ack":
        entry.upload?.acked(message.read);
        break;
      case "cancel":
        entry.upload?.cancel();
        break;
      case "req":
        break;
    }
  }

  /** Every open request fails (the other thread is gone). */
  failAll(reason: string): void {
    for (const [id, entry] of this.open) {
      entry.fail?.(new Error(reason));
      entry.body?.end(reason);
      this.open.delete(id);
    }
  }

  /** The client went away: the other side aborts the request and stops its body. */
  private abandon(id: number): void {
    const entry = this.open.get(id);
    if (!entry) return;
    this.open.delete(id);
    entry.upload?.cancel();
    entry.body?.end("the client went away");
    this.post({ k: "cancel", id, up: false });
  }
}

/** Statuses whose answers have no body. */
const BODYLESS = new Set([101, 204, 205, 304]);

/** The manager thread's side: answers each request with `handle` (a Hono app's fetch). */
export class BridgeServer {
  private readonly open = new Map<number, { abort: AbortController; upload?: Receiver; body?: Sender }>();

  constructor(
    private readonly post: Post,
    private readonly handle: (request: Request) => Response | Promise<Response>,
  ) {}

  receive(message: BridgeMessage): void {
    if (message.k === "req") {
      void this.serve(message);
      return;
    }
    const entry = this.open.get(message.id);
    if (!entry) return;
    switch (message.k) {
      case "chunk":
        entry.upload?.chunk(message.chunk);
        break;
      case "end":
        entry.upload?.end(message.error);
        break;
      case "ack":
        entry.body?.acked(message.read);
        break;
      case "cancel":
        this.open.delete(message.id);
        entry.abort.abort();
        entry.upload?.end("the client went away");
        entry.body?.cancel();
        break;
      case "res":
        break;
    }
  }

  /** Aborts every request still open (the server stops). */
  abortAll(): void {
    for (const entry of this.open.values()) {
      entry.abort.abort();
      entry.body?.cancel();
    }
    this.open.clear();
  }

  private async serve({ id, method, url, headers, body, streamed }: Extract<BridgeMessage, { k: "req" }>): Promise<void> {
    const entry: { abort: AbortController; upload?: Receiver; body?: Sender } = { abort: new AbortController() };
    this.open.set(id, entry);
    if (streamed) {
      entry.upload = new Receiver(
        (read) => this.post({ k: "ack", id, up: true, read }),
        () => this.post({ k: "cancel", id, up: true }),
      );
    }
    let response: Response;
    try {
      const requestBody = streamed ? (entry.upload as Receiver).stream : body;
      response = await this.handle(new Request(url, { method, headers, body: requestBody, signal: entry.abort.signal, ...(streamed ? { duplex: "half" } : {}) } as RequestInit));
    } catch (err) {
      response = Response.json({ error: { code: "internal", message: `the manager could not answer: ${(err as Error).message}` } }, { status: 500 });
    }
    if (!this.open.has(id)) {
      void response.body?.cancel().catch(() => undefined);
      return;
    }
    const headerList = pairsOf(response.headers);
    if (response.body === null || method === "HEAD" || BODYLESS.has(response.status)) {
      void response.body?.cancel().catch(() => undefined);
      this.open.delete(id);
      this.post({ k: "res", id, status: response.status, headers: headerList, streamed: false });
      return;
    }
    // A JSON answer is whole when made (and is most answers): read at once, it goes in one message.
    if (response.headers.get("content-type")?.startsWith("application/json")) {
      const body = new Uint8Array(await response.arrayBuffer());
      this.open.delete(id);
      this.post({ k: "res", id, status: response.status, headers: headerList, streamed: false, body });
      return;
    }
    this.post({ k: "res", id, status: response.status, headers: headerList, streamed: true });
    entry.body = new Sender(response.body.getReader(), (m) => this.post({ ...m, id, up: false }));
    await entry.body.run();
    this.open.delete(id);
  }
}
