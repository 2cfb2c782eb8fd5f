import { afterEach, describe, expect, test } from "bun:test";
import { collectGarbage } from "../../src/manager/garbage.ts";
import { decidePeriodic, runName } from "../../src/manager/periodic.ts";
import type { JobSpec } from "../../src/model/job.ts";
import type { Task } from "../../src/model/task.ts";
import { validateJob } from "../../src/model/job-schema.ts";
import { JobValidationError } from "../../src/model/job-validation-error.ts";
import { openStore } from "../../src/store/index.ts";
import { ApiHarness } from "./api-harness.ts";
import { makeJob, makeJobSpec, makeTask } from "./fixtures.ts";
import { ManagerFixture } from "./manager-fixture.ts";

const at = (iso: string) => Date.parse(iso);
const periodic = (name: string, overrides: Partial<JobSpec> = {}): JobSpec =>
  makeJobSpec(name, [{ count: 1, resources: { cpu: 0.1, memory: 64, disk: 0 } }], { type: "batch", schedule: "*/15 * * * *", timezone: "UTC", overlap: "skip", ...overrides });

const fixtures: ManagerFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.manager.stop();
});

/** A manager whose clock starts at `iso`, with one node. */
function cluster(iso: string, store = openStore(":memory:")): ManagerFixture {
  const f = new ManagerFixture(store);
  f.clock = at(iso);
  fixtures.push(f);
  if (f.manager.listNodes().items.length === 0) f.join("w1");
  return f;
}

/** Moves the clock and evaluates what came due. */
function advance(f: ManagerFixture, iso: string): void {
  f.clock = at(iso);
  f.manager.reconcileNow();
}

const runsOf = (f: ManagerFixture, job: string) => f.manager.getJob(job).periodic?.runs.map((r) => `${r.job} ${r.status}`);

describe("a schedule in a job file", () => {
  const file = (fields: Record<string, unknown>) => ({ name: "backup", type: "batch", tasks: [{ name: "main", image: "img" }], ...fields });
  const issues = (fields: Record<string, unknown>) => {
    try {
      validateJob(file(fields));
      return [];
    } catch (err) {
      return (err as JobValidationError).issues;
    }
  };

  test("is read with croner: 5 fields, 6 with seconds, a time zone, overlap skip by default", () => {
    expect(validateJob(file({ schedule: "*/15 * * * *" }))).toMatchObject({ schedule: "*/15 * * * *", timezone: "UTC", overlap: "skip" });
    expect(validateJob(file({ schedule: "*/5 * * * * *", timezone: "Europe/Paris", overlap: "allow" }))).toMatchObject({ timezone: "Europe/Paris", overlap: "allow" });
  });

  test("a bad one is refused naming the expression and what is wrong", () => {
    expect(issues({ schedule: "*/15 * *" })).toEqual([{ path: "schedule", message: '"*/15 * *" is not a cron expression: it has 3 fields; give 5 (minute hour day month weekday) or 6 (seconds first)' }]);
    expect(issues({ schedule: "61 * * * *" })).toEqual([{ path: "schedule", message: '"61 * * * *" is not a cron expression: Invalid value for minute: 61' }]);
    expect(issues({ schedule: "0 0 30 2 *" })).toEqual([{ path: "schedule", message: '"0 0 30 2 *" never comes due' }]);
    expect(issues({ schedule: "* * * * *", timezone: "Mars/Base" })).toEqual([{ path: "timezone", message: '"Mars/Base" is not a time zone (use an IANA name such as UTC or Europe/Paris)' }]);
    expect(issues({ schedule: "* * * * *", type: "service" })).toEqual([{ path: "schedule", message: "only a batch job can have a schedule (this one is type: service)" }]);
    expect(issues({ overlap: "allow" })).toEqual([{ path: "overlap", message: "overlap only applies to a periodic job (one with a schedule)" }]);
    expect(issues({ schedule: "* * * * *", name: "a".repeat(53) })[0]?.path).toBe("name");
  });

  test("the API answers a bad expression with a 400 that names it", async () => {
    const h = new ApiHarness();
    const res = await h.call("POST", "/v1/jobs", file({ schedule: "*/15 * *" }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { path: string; message: string }[] } };
    expect(body.error.code).toBe("invalid_job");
    expect(body.error.details[0]?.path).toBe("schedule");
    expect(body.error.details[0]?.message).toContain('"*/15 * *"');
  });
});

describe("decidePeriodic", () => {
  const job = (updatedAt: number, overrides: Partial<JobSpec> = {}) => ({ ...makeJob(periodic("backup", overrides)), updatedAt });

  test("a time is due once the schedule reaches it after the job's last change and its newest run", () => {
    const submitted = at("2025-01-01T10:07:00Z");
    expect(decidePeriodic(job(submitted), [], at("2025-01-01T10:14:59Z"))).toEqual({ due: null, stop: [], wakeAt: at("2025-01-01T10:15:00Z") });
    expect(decidePeriodic(job(submitted), [], at("2025-01-01T10:15:00Z")).due).toEqual({ at: at("2025-01-01T10:15:00Z"), skipped: null });
    const ran = [{ name: "backup-1735726500", at: at("2025-01-01T10:15:00Z"), active: false }];
    expect(decidePeriodic(job(submitted), ran, at("2025-01-01T10:20:00Z")).due).toBeNull();
    // Missed times (no manager ran): only the latest is launched.
    expect(decidePeriodic(job(submitted), ran, at("2025-01-01T11:20:00Z")).due?.at).toBe(at("2025-01-01T11:15:00Z"));
  });

  test("overlap skip records a time as skipped while a run is active; allow launches it", () => {
    const active = [{ name: "backup-1735726500", at: at("2025-01-01T10:15:00Z"), active: true }];
    const now = at("2025-01-01T10:30:00Z");
    expect(decidePeriodic(job(0), active, now).due).toEqual({ at: now, skipped: "run backup-1735726500 is still running" });
    expect(decidePeriodic(job(0, { overlap: "allow" }), active, now).due).toEqual({ at: now, skipped: null });
  });

  test("the schedule is read in its time zone", () => {
    const daily = job(0, { schedule: "0 3 * * *", timezone: "America/New_York" });
    expect(decidePeriodic(daily, [], at("2025-06-01T06:00:00Z")).wakeAt).toBe(at("2025-06-01T07:00:00Z"));
  });

  test("a stopped periodic job launches nothing and stops its active runs", () => {
    const stopped = { ...job(0), status: "stopped" as const };
    const runs = [{ name: "a", at: 1, active: true }, { name: "b", at: 2, active: false }];
    expect(decidePeriodic(stopped, runs, at("2025-01-01T10:30:00Z"))).toEqual({ due: null, stop: ["a"], wakeAt: null });
  });
});

describe("the manager runs a periodic job", () => {
  test("each due time launches one run, a batch job of its own; the job shows its runs and next time", () => {
    const f = cluster("2025-01-01T10:07:00Z");
    f.manager.submitJob(periodic("backup"));
    f.manager.reconcileNow();
    expect(f.manager.getJob("backup").periodic).toMatchObject({ schedule: "*/15 * * * *", next: at("2025-01-01T10:15:00Z"), runs: [] });
    expect(f.manager.getJob("backup").summary.desired).toBe(0);

    advance(f, "2025-01-01T10:15:00Z");
    const run = runName("backup", at("2025-01-01T10:15:00Z"));
    expect(run).toBe("backup-1735726500");
    const tasks = f.manager.getJob(run).tasks;
    expect(tasks.map((t) => [t.name, t.state])).toEqual([[`${run}.http.0`, "scheduled"]]);
    expect(f.manager.getJob(run).spec.periodicRun).toEqual({ parent: "backup", at: at("2025-01-01T10:15:00Z") });
    expect(f.manager.getJob("backup").periodic?.next).toBe(at("2025-01-01T10:30:00Z"));
    expect(runsOf(f, "backup")).toEqual([`${run} running`]);
    // Evaluated again at the same time (a resync, say): nothing more.
    f.manager.resync();
    f.manager.reconcileNow();
    expect(f.manager.listJobs().items.map((j) => j.name)).toEqual(["backup", run]);
  });

  test("overlap skip: a time that comes while the last run runs is recorded skipped; the next one runs", async () => {
    const f = cluster("2025-01-01T10:07:00Z");
    f.manager.submitJob(periodic("backup"));
    advance(f, "2025-01-01T10:15:00Z");
    advance(f, "2025-01-01T10:30:00Z");
    expect(runsOf(f, "backup")).toEqual(["backup-1735727400 skipped", "backup-1735726500 running"]);
    expect(f.tasks("backup-1735727400")).toEqual([]);
    const [task] = f.tasks("backup-1735726500");
    await f.report(task as Task, { state: "running", message: "started" }, { state: "completed", message: "exit code 0", exitCode: 0 });
    advance(f, "2025-01-01T10:35:00Z");
    expect(runsOf(f, "backup")?.[0]).toBe("backup-1735727400 skipped");
    advance(f, "2025-01-01T10:45:00Z");
    expect(runsOf(f, "backup")).toEqual(["backup-1735728300 running", "backup-1735727400 skipped", "backup-1735726500 completed"]);
  });

  test("overlap allow: runs overlap", () => {
    const f = cluster("2025-01-01T10:07:00Z");
    f.manager.submitJob(periodic("backup", { overlap: "allow" }));
    advance(f, "2025-01-01T10:15:00Z");
    advance(f, "2025-01-01T10:30:00Z");
    expect(runsOf(f, "backup")).toEqual(["backup-1735727400 running", "backup-1735726500 running"]);
  });

  test("never twice for one time across a manager restart; a time missed while it was down runs once", () => {
    const store = openStore(":memory:");
    const first = cluster("2025-01-01T10:07:00Z", store);
    first.manager.submitJob(periodic("backup", { overlap: "allow" }));
    advance(first, "2025-01-01T10:15:00Z");
    first.manager.stop();

    const second = cluster("2025-01-01T10:15:30Z", store);
    second.manager.start();
    second.manager.reconcileNow();
    expect(runsOf(second, "backup")).toEqual(["backup-1735726500 running"]);
    second.manager.stop();

    const third = cluster("2025-01-01T11:05:00Z", store);
    third.manager.start();
    third.manager.reconcileNow();
    expect(runsOf(third, "backup")).toEqual(["backup-1735729200 running", "backup-1735726500 running"]);
  });

  test("stopping the periodic job stops its active runs and launches no more", () => {
    const f = cluster("2025-01-01T10:07:00Z");
    f.manager.submitJob(periodic("backup"));
    advance(f, "2025-01-01T10:15:00Z");
    f.manager.stopJob("backup", false);
    f.manager.reconcileNow();
    expect(f.manager.getJob("backup-1735726500").status).toBe("stopped");
    expect(f.tasks("backup-1735726500").map((t) => t.desired)).toEqual(["stopped"]);
    advance(f, "2025-01-01T10:30:00Z");
    expect(runsOf(f, "backup")).toEqual(["backup-1735726500 stopped"]);
    expect(f.manager.getJob("backup").periodic?.next).toBeNull();
  });
});

test("garbage collection forgets old runs with their tasks but keeps a periodic job's newest run", () => {
  const parent = makeJob(periodic("backup"));
  const run = (seconds: number) => ({ ...makeJob({ ...makeJobSpec(`backup-${seconds}`, [{}], { type: "batch" }), periodicRun: { parent: "backup", at: seconds * 1000 } }), updatedAt: 0 });
  const runs = [run(100), run(200), run(300)];
  const tasks = runs.map((r) => makeTask({ job: r.spec.name, state: "completed", finishedAt: 0 }));
  const garbage = collectGarbage([parent, ...runs], tasks, new Map(), 10_000_000, { afterMs: 1_000, keepVersions: 10 });
  expect(garbage.jobs).toEqual(["backup-100", "backup-200"]);
  // Once the periodic job itself is gone, so may its last run be.
  expect(collectGarbage(runs, tasks, new Map(), 10_000_000, { afterMs: 1_000, keepVersions: 10 }).jobs).toEqual(["backup-100", "backup-200", "backup-300"]);
});
