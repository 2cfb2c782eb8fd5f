import { afterEach, expect, test } from "bun:test";
import { type BridgeMessage, BridgeClient, BridgeServer } from "../../src/server/request-bridge.ts";

/** A client and a server joined by a real MessageChannel, as the two threads are by a Worker's. */
function bridged(handle: (request: Request) => Response | Promise<Response>) {
  const { port1, port2 } = new MessageChannel();
  const client = new BridgeClient((m) => port1.postMessage(m));
  const server = new BridgeServer((m) => port2.postMessage(m), handle);
  port1.onmessage = (e: MessageEvent<BridgeMessage>) => client.receive(e.data);
  port2.onmessage = (e: MessageEvent<BridgeMessage>) => server.receive(e.data);
  opened.push(() => {
    port1.close();
    port2.close();
  });
  return { client, server };
}
const opened: (() => void)[] = [];
afterEach(() => {
  for (const close of opened.splice(0)) close();
});

const MB = 1 << 20;
const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) % 251);

/** A stream of `total` bytes in 64 KiB chunks that counts how many it has handed out. */
function countingSource(total: number) {
  const counted = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counted.pulled >= total) return controller.close();
      const chunk = bytes(Math.min(64 * 1024, total - counted.pulled));
      counted.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, counted };
}

test("a JSON answer comes back whole: status, body, and each Set-Cookie header", async () => {
  const { client } = bridged(async (request) => {
    const headers = new Headers({ "content-type": "application/json" });
    headers.append("set-cookie", "a=1");
    headers.append("set-cookie", "b=2");
    return new Response(JSON.stringify({ method: request.method, path: new URL(request.url).pathname, auth: request.headers.get("authorization"), body: await request.text() }), { status: 201, headers });
  });
  const response = await client.forward(new Request("http://cube/v1/jobs?x=1", { method: "POST", headers: { authorization: "Bearer t" }, body: "{}" }));
  expect(response.status).toBe(201);
  expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  expect(await response.json()).toEqual({ method: "POST", path: "/v1/jobs", auth: "Bearer t", body: "{}" });
});

test("an answer without a body, and a HEAD's, arrive without one", async () => {
  const { client } = bridged((request) => new Response(request.method === "HEAD" ? "ignored" : null, { status: request.method === "HEAD" ? 200 : 204 }));
  const none = await client.forward(new Request("http://cube/x", { method: "DELETE" }));
  expect(none.status).toBe(204);
  expect(none.body).toBeNull();
  const head = await client.forward(new Request("http://cube/x", { method: "HEAD" }));
  expect(head.status).toBe(200);
  expect(await head.text()).toBe("");
});

test("a 5 MiB upload of unknown length streams through intact", async () => {
  const sent = bytes(5 * MB);
  const digest = (data: Uint8Array | ArrayBuffer) => new Bun.CryptoHasher("sha256").update(data).digest("hex");
  const { client } = bridged(async (request) => {
    const received = await request.arrayBuffer();
    return Response.json({ received: received.byteLength, digest: digest(received) });
  });
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < sent.byteLength; at += 100_000) controller.enqueue(sent.slice(at, at + 100_000));
      controller.close();
    },
  });
  const response = await client.forward(new Request("http://cube/v1/images/load", { method: "POST", body, duplex: "half" } as RequestInit));
  expect(await response.json()).toEqual({ received: 5 * MB, digest: digest(sent) });
});

test("a streamed answer of 5 MiB arrives intact, and its sender stays within a window of what was read", async () => {
  const { stream, counted } = countingSource(5 * MB);
  const { client } = bridged(() => new Response(stream, { headers: { "content-type": "application/octet-stream" } }));
  const response = await client.forward(new Request("http://cube/v1/snapshot"));
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const first = await reader.read();
  // Nobody reads for a while: the sender must stop about a window (1 MiB) ahead, not send all 5 MiB.
  await Bun.sleep(200);
  expect(counted.pulled).toBeLessThan(2 * MB);
  let received = first.value?.byteLength ?? 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
  }
  expect(received).toBe(5 * MB);
  expect(counted.pulled).toBe(5 * MB);
});

test("a client that goes away aborts the handler's request and stops a stream it was sent", async () => {
  let handlerSignal: AbortSignal | undefined;
  let cancelled = false;
  const { client } = bridged((request) => {
    handlerSignal = request.signal;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(": connected\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  const abort = new AbortController();
  const response = await client.forward(new Request("http://cube/v1/events", { signal: abort.signal }));
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe(": connected\n\n");
  abort.abort();
  await Bun.sleep(50);
  expect(handlerSignal?.aborted).toBe(true);
  expect(cancelled).toBe(true);
});

test("a long-poll the client gives up on is aborted on the other side before it answers", async () => {
  let aborted = false;
  const { client } = bridged(
    (request) =>
      new Promise<Response>((resolve) => {
        request.signal.addEventListener("abort", () => {
          aborted = true;
          resolve(Response.json({ late: true }));
        });
      }),
  );
  const abort = new AbortController();
  const answer = client.forward(new Request("http://cube/v1/nodes/n1/assignments?wait=30s", { signal: abort.signal }));
  await Bun.sleep(20);
  abort.abort();
  await Bun.sleep(50);
  expect(aborted).toBe(true);
  // The caller is gone; its promise never resolves with the late answer (nothing to deliver it to).
  const outcome = await Promise.race([answer.then(() => "answered"), Bun.sleep(50).then(() => "pending")]);
  expect(outcome).toBe("pending");
});

test("a handler that throws is a 500 naming why, not a hang", async () => {
  const { client } = bridged(() => {
    throw new Error("boom");
  });
  const response = await client.forward(new Request("http://cube/v1/x"));
  expect(response.status).toBe(500);
  expect(((await response.json()) as { error: { message: string } }).error.message).toContain("boom");
});

test("when the other thread goes, every open request fails", async () => {
  const { client } = bridged(() => new Promise<Response>(() => undefined));
  const answer = client.forward(new Request("http://cube/v1/nodes/n1/assignments"));
  await Bun.sleep(10);
  client.failAll("the manager is stopping");
  await expect(answer).rejects.toThrow("the manager is stopping");
});
