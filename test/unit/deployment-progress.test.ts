import { describe, expect, test } from "bun:test";
import { deploymentProgress } from "../../src/cli/deployment-progress.ts";
import type { JobDetail, TaskView } from "../../src/model/api-types.ts";
import type { Task } from "../../src/model/task.ts";
import { makeJob, makeJobSpec, makeTask } from "./fixtures.ts";

function view(task: Partial<Task>): TaskView {
  const t = makeTask(task);
  return { ...t, name: `web.http.${t.index}`, nodeName: t.nodeId ? "dev-1" : null };
}

function job(version: number, tasks: TaskView[], overrides: Partial<JobDetail> = {}): JobDetail {
  const spec = makeJobSpec("web", [{ count: 3 }]);
  return { ...makeJob(spec, version), name: "web", type: "service", summary: { desired: 3, byState: {} }, rolloutFailure: null, tasks, ...overrides };
}

describe("deploymentProgress", () => {
  test("counts placed, running and healthy of the new version and old tasks left", () => {
    const tasks = [
      view({ index: 0, jobVersion: 2, state: "running" }),
      view({ index: 1, jobVersion: 2, state: "scheduled" }),
      view({ index: 2, jobVersion: 1, state: "running" }),
    ];
    expect(deploymentProgress(job(2, tasks), 2)).toEqual({ lines: ["http: 2/3 placed, 1/3 running, 1/3 healthy; 1 old → new"], done: null });
  });

  test("settles with a one-line summary when every replica of the version runs", () => {
    const tasks = [0, 1, 2].map((index) => view({ index, jobVersion: 2, state: "running" }));
    expect(deploymentProgress(job(2, tasks), 2).done).toEqual({ ok: true, summary: "job web version 2: 3 task(s) running and healthy" });
  });

  test("says why a task waits for placement", () => {
    const tasks = [view({ index: 0, state: "pending", nodeId: null, message: "no node can run it: 2 nodes: memory exhausted" })];
    expect(deploymentProgress(job(1, tasks), 1).lines).toEqual(["http: 0/3 placed, 0/3 running, 0/3 healthy (no node can run it: 2 nodes: memory exhausted)"]);
  });

  test("a failed rollout or a revert ends the watch with the reason", () => {
    expect(deploymentProgress(job(2, [], { rolloutFailure: "task http.0 of the new version was not healthy within 3s" }), 2).done).toEqual({
      ok: false,
      summary: "rollout of job web version 2 failed: task http.0 of the new version was not healthy within 3s",
    });
    expect(deploymentProgress(job(3, [], { rolloutFailure: null }), 2).done?.ok).toBe(false);
  });

  test("a batch job settles when every task completed, and fails when one failed", () => {
    const spec = makeJobSpec("b", [{ count: 2 }], { type: "batch" });
    const batch = (tasks: TaskView[]) => ({ ...job(1, tasks), type: "batch" as const, spec });
    const done = [0, 1].map((index) => view({ index, state: "completed" }));
    expect(deploymentProgress(batch(done), 1)).toEqual({ lines: ["http: 2/2 completed, 0 running"], done: { ok: true, summary: "job web version 1: all tasks completed" } });
    const failed = [view({ index: 0, state: "completed" }), view({ index: 1, state: "failed", message: "exit code 1" })];
    expect(deploymentProgress(batch(failed), 1).done).toEqual({ ok: false, summary: "task web.http.1 failed: exit code 1" });
  });
});
