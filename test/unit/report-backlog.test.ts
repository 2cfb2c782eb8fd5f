import { expect, test } from "bun:test";
import { Hono } from "hono";
import { errorHandler } from "../../src/api/errors.ts";
import { ApiClient } from "../../src/client/api-client.ts";
import { BusyError } from "../../src/lib/errors.ts";
import { createLogger } from "../../src/lib/logger.ts";
import type { TaskReport, TaskReportItem } from "../../src/model/api-types.ts";
import type { TaskState } from "../../src/model/task-state.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { ReportQueue } from "../../src/worker/report-queue.ts";
import { ManagerFixture } from "./manager-fixture.ts";

const SEED = process.env.CUBE_BACKLOG_SEED ?? String(Date.now());

/**
 * Workers' real report queues, over HTTP, against a manager whose report backlog often looks older
 * than its bound (its clock jumps 9 s as a request arrives), so many batches are turned away as busy
 * and sent again. Whatever the interleaving, each task must end as its worker last reported it: no
 * report lost, none applied out of order.
 */
test(`reports turned away as busy are sent again; every task ends as its worker last reported it (seed ${SEED})`, async () => {
  console.log(`[backlog] seed=${SEED} (replay: CUBE_BACKLOG_SEED=${SEED})`);
  const random = seededRandom(SEED);
  const f = new ManagerFixture(undefined, { heartbeatTtlMs: Number.MAX_SAFE_INTEGER });
  const nodeIds = ["a", "b", "c", "d", "e"].map((name) => f.join(name));
  f.submit("work", 40, 64, { type: "batch" });

  let arrivals = 0;
  let busy = 0;
  const app = new Hono();
  app.onError(errorHandler(createLogger("test", "error")));
  app.post("/v1/nodes/:id/tasks", async (c) => {
    const { reports } = await c.req.json<{ reports: TaskReportItem[] }>();
    if (++arrivals % 3 === 0) f.clock += 9_000;
    try {
      return c.json({ results: await f.manager.reportTasks(c.req.param("id"), reports) });
    } catch (err) {
      if (err instanceof BusyError) busy++;
      throw err;
    }
  });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
  try {
    const client = new ApiClient(`http://127.0.0.1:${server.port}`);
    const log = createLogger("test", "error");
    const queues = new Map(nodeIds.map((id) => [id, new ReportQueue(client, () => id, log)]));
    const tasks = f.live("work");
    expect(tasks).toHaveLength(40);
    /** What each task's worker reported last and the manager had to accept: the state it must end in. */
    const expected = new Map<string, TaskState>();
    const next = (taskId: string): TaskReport | null => {
      const last = expected.get(taskId);
      if (last === undefined) return { state: "running", message: "started" };
      if (last === "running") return random() < 0.5 ? { state: "completed", message: "exit code 0", exitCode: 0 } : { state: "failed", message: "exit code 1", exitCode: 1 };
      return null;
    };

    for (let round = 0; round < 40; round++) {
      for (const task of tasks) {
        if (random() > 0.15) continue;
        const queue = queues.get(task.nodeId as string) as ReportQueue;
        const report = next(task.id);
        if (report) {
          queue.push(task.id, report);
          expected.set(task.id, report.state);
        } else {
          // A stale report (the task has ended): refused on its own and dropped, changing nothing.
          queue.push(task.id, { state: "running", message: "started again?" });
        }
      }
      // Queues back off after a refusal; the test does not wait that long.
      for (const queue of queues.values()) queue.retryNow();
      if (random() < 0.5) await Bun.sleep(Math.floor(random() * 20));
    }
    const flushed = Promise.all([...queues.values()].map((q) => q.flushed()));
    let done = false;
    void flushed.then(() => (done = true));
    for (let waited = 0; !done && waited < 10_000; waited += 20) {
      for (const queue of queues.values()) queue.retryNow();
      await Bun.sleep(20);
    }
    expect(done).toBe(true);

    expect(busy).toBeGreaterThan(0);
    const states = new Map(f.tasks("work").map((t) => [t.id, t.state]));
    for (const task of tasks) expect(`${task.id} ${states.get(task.id)}`).toBe(`${task.id} ${expected.get(task.id) ?? task.state}`);
  } finally {
    server.stop(true);
  }
});
