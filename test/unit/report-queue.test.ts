import { afterEach, expect, test } from "bun:test";
import { ApiClient } from "../../src/client/api-client.ts";
import { createLogger } from "../../src/lib/logger.ts";
import type { TaskReportItem } from "../../src/model/api-types.ts";
import { ReportQueue } from "../../src/worker/report-queue.ts";

/** A manager stand-in on a real port: records each batch and answers as `answer` says. */
function fakeManager(answer: (batch: TaskReportItem[], n: number) => Response) {
  const batches: TaskReportItem[][] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const { reports } = (await req.json()) as { reports: TaskReportItem[] };
      batches.push(reports);
      return answer(reports, batches.length);
    },
  });
  return { batches, server, url: `http://127.0.0.1:${server.port}` };
}

const accepted = (batch: TaskReportItem[]) => Response.json({ results: batch.map((r) => ({ taskId: r.taskId, ok: true, state: r.state, desired: "running" })) });
let stop: () => void = () => {};
afterEach(() => stop());

test("reports pushed together go in one request, in order; later ones in the next", async () => {
  const m = fakeManager(accepted);
  stop = () => m.server.stop(true);
  const queue = new ReportQueue(new ApiClient(m.url), () => "node-1", createLogger("test", "error"));
  queue.push("t1", { state: "running", message: "started" });
  queue.push("t2", { state: "running", message: "started" });
  queue.push("t1", { state: "completed", message: "exit code 0" });
  await queue.flushed();
  queue.push("t2", { state: "failed", message: "exit code 1" });
  await queue.flushed();
  expect(m.batches.map((b) => b.map((r) => `${r.taskId} ${r.state}`))).toEqual([["t1 running", "t2 running", "t1 completed"], ["t2 failed"]]);
});

test("while the manager fails, the same batch is sent again with what came meanwhile behind it; refused reports are dropped", async () => {
  const m = fakeManager((batch, n) => {
    if (n === 1) return new Response("overloaded", { status: 503 });
    return Response.json({ results: batch.map((r) => (r.taskId === "stale" ? { taskId: r.taskId, ok: false, error: { code: "conflict", message: "moved on" } } : { taskId: r.taskId, ok: true, state: r.state, desired: "running" })) });
  });
  stop = () => m.server.stop(true);
  const queue = new ReportQueue(new ApiClient(m.url), () => "node-1", createLogger("test", "error"));
  queue.push("t1", { state: "running", message: "started" });
  queue.push("stale", { state: "running", message: "started" });
  await Bun.sleep(50);
  queue.push("t1", { state: "completed", message: "exit code 0" });
  await queue.flushed();
  expect(m.batches.map((b) => b.map((r) => `${r.taskId} ${r.state}`))).toEqual([
    ["t1 running", "stale running"],
    ["t1 running", "stale running", "t1 completed"],
  ]);
  queue.push("t3", { state: "running", message: "started" });
  await queue.flushed();
  expect(m.batches.at(-1)?.map((r) => r.taskId)).toEqual(["t3"]);
});
