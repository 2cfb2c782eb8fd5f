import { expect, test } from "bun:test";
import { Hono } from "hono";
import { errorHandler } from "../../src/api/errors.ts";
import { ApiClient } from "../../src/client/api-client.ts";
import { BusyError } from "../../src/lib/errors.ts";
import { createLogger } from "../../src/lib/logger.ts";
import type { TaskReport, TaskReportItem } from "../../src/model/api-types.ts";
import type { TaskHealth } from "../../src/model/task.ts";
import type { TaskState } from "../../src/model/task-state.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";
import { ReportQueue } from "../../src/worker/report-queue.ts";
import { ManagerFixture } from "./manager-fixture.ts";

const SEED = process.env.CUBE_BACKLOG_SEED ?? String(Date.now());

/** An in-memory store whose commits (the savepoints inside a transaction) take up to `maxMs` each, busy: a turn of report commits runs out of time after a few. */
function slowStore(random: () => number, maxMs: number): Store {
  const store = openStore(":memory:");
  let depth = 0;
  return new Proxy(store, {
    get(target, key) {
      if (key === "transaction") {
        return <T>(fn: () => T): T => {
          if (depth > 0) for (const until = performance.now() + random() * maxMs; performance.now() < until; );
          depth++;
          try {
            return target.transaction(fn);
          } finally {
            depth--;
          }
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store;
}

/**
 * Workers' real report queues, over HTTP, against a manager whose report backlog often looks older
 * than its bound (its clock jumps 9 s as a request arrives), so many batches are turned away as busy
 * and sent again, and whose commits are slow, so a request of many reports (bursts of health changes,
 * and batches that grew while refused) is committed in parts over several turns, between other
 * requests' reports. Whatever the interleaving, each task must end as its worker last reported it: no
 * report lost, none applied out of order.
 */
test(`reports turned away as busy are sent again, big requests committed in parts; every task ends as its worker last reported it (seed ${SEED})`, async () => {
  console.log(`[backlog] seed=${SEED} (replay: CUBE_BACKLOG_SEED=${SEED})`);
  const random = seededRandom(SEED);
  const f = new ManagerFixture(slowStore(random, 4), { heartbeatTtlMs: Number.MAX_SAFE_INTEGER });
  const nodeIds = ["a", "b", "c", "d", "e"].map((name) => f.join(name));
  f.submit("work", 40, 64, { type: "batch" });

  let arrivals = 0;
  let busy = 0;
  /** Requests of more reports than one commit takes (50). */
  let big = 0;
  const app = new Hono();
  app.onError(errorHandler(createLogger("test", "error")));
  app.post("/v1/nodes/:id/tasks", async (c) => {
    const { reports } = await c.req.json<{ reports: TaskReportItem[] }>();
    if (reports.length > 50) big++;
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
    /** What each task's worker reported last and the manager had to accept: the state it must end in, and the health of a running one. */
    const expected = new Map<string, TaskState>();
    const expectedHealth = new Map<string, TaskHealth>();
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
        if (expected.get(task.id) === "running" && random() < 0.5) {
          // A burst of health checks flapping: many reports of one task in one request.
          for (let n = 1 + Math.floor(random() * 80); n > 0; n--) {
            const health = random() < 0.5 ? "healthy" : "unhealthy";
            queue.push(task.id, { state: "running", message: `health ${health}`, health });
            expectedHealth.set(task.id, health);
          }
        } else if (report) {
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
    expect(big).toBeGreaterThan(0);
    const final = new Map(f.tasks("work").map((t) => [t.id, t]));
    for (const task of tasks) {
      const state = expected.get(task.id) ?? task.state;
      const health = state === "running" ? (expectedHealth.get(task.id) ?? null) : final.get(task.id)?.health;
      expect(`${task.id} ${final.get(task.id)?.state} ${final.get(task.id)?.health}`).toBe(`${task.id} ${state} ${health}`);
    }
  } finally {
    server.stop(true);
  }
});
