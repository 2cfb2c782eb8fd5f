import { describe, expect, test } from "bun:test";
import { collectGarbage } from "../../src/manager/garbage.ts";
import { makeJob, makeJobSpec, makeTask } from "./fixtures.ts";

const HOUR = 3_600_000;
const options = { afterMs: HOUR, keepVersions: 2 };
const now = 10 * HOUR;

describe("collectGarbage", () => {
  test("old finished tasks go, except the newest of each slot; recent ones stay", () => {
    const job = makeJob(makeJobSpec("web"), 1);
    const oldFailed = makeTask({ index: 0, state: "failed", finishedAt: HOUR, createdAt: 1 });
    const recentFailed = makeTask({ index: 0, state: "failed", finishedAt: now - 60_000, createdAt: 2 });
    const running = makeTask({ index: 0, state: "running", createdAt: 3 });
    const lastOfSlot = makeTask({ index: 1, state: "stopped", finishedAt: HOUR, createdAt: 4 });
    const g = collectGarbage([job], [oldFailed, recentFailed, running, lastOfSlot], new Map(), now, options);
    expect(g.tasks).toEqual([oldFailed.id]);
    expect(g.jobs).toEqual([]);
  });

  test("a slot's newest task that completed or failed stays, even with a stopped one after it: a batch slot is done by it", () => {
    const job = makeJob(makeJobSpec("nightly", [{ count: 1 }], { type: "batch" }), 1);
    const older = makeTask({ job: "nightly", index: 0, state: "failed", finishedAt: HOUR, createdAt: 1 });
    const completed = makeTask({ job: "nightly", index: 0, state: "completed", finishedAt: HOUR, createdAt: 2 });
    const stoppedAfter = makeTask({ job: "nightly", index: 0, state: "stopped", finishedAt: HOUR, createdAt: 3 });
    const running = makeTask({ job: "nightly", index: 1, state: "running", createdAt: 4 });
    expect(collectGarbage([job], [older, completed, stoppedAfter, running], new Map(), now, options).tasks).toEqual([older.id]);
  });

  test("a stopped job and a finished batch job are forgotten once old; a running one never", () => {
    const stopped = makeJob(makeJobSpec("old"), 1, "stopped");
    const batch = makeJob(makeJobSpec("done", [{}], { type: "batch" }), 1);
    const live = makeJob(makeJobSpec("web"), 1);
    const tasks = [
      makeTask({ job: "old", state: "stopped", finishedAt: HOUR }),
      makeTask({ job: "done", state: "completed", finishedAt: HOUR }),
      makeTask({ job: "web", state: "running" }),
    ];
    expect(collectGarbage([stopped, batch, live], tasks, new Map(), now, options).jobs).toEqual(["old", "done"]);
    expect(collectGarbage([stopped], tasks, new Map(), HOUR + 60_000, options).jobs).toEqual([]);
  });

  test("old versions beyond the kept ones go, unless a live task still runs them", () => {
    const job = makeJob(makeJobSpec("web"), 5);
    const tasks = [makeTask({ jobVersion: 1, state: "running" })];
    const g = collectGarbage([job], tasks, new Map([["web", [5, 4, 3, 2, 1]]]), now, options);
    expect(g.versions).toEqual([{ job: "web", version: 3 }, { job: "web", version: 2 }]);
  });
});
