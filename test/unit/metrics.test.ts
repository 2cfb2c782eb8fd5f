import { expect, test } from "bun:test";
import type { Task } from "../../src/model/task.ts";
import { ApiHarness } from "./api-harness.ts";

const job = (name: string, count: number) => ({ name, tasks: [{ name: "main", image: "img", count, resources: { cpu: 0.1, memory: 64 } }] });

async function scrape(h: ApiHarness): Promise<string> {
  const res = await h.call("GET", "/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  return res.text();
}

test("the manager's /metrics has histograms with buckets for API latency by route, scheduling and task starts", async () => {
  const h = new ApiHarness();
  const nodeId = await h.register("w1");
  await h.call("POST", "/v1/jobs", job("web", 2));
  h.clock += 1_500;
  h.manager.reconcileNow();
  const tasks = (await h.jobDetail("web")).tasks as Task[];
  h.clock += 2_000;
  const report = (state: string) => h.call("POST", `/v1/nodes/${nodeId}/tasks`, { reports: tasks.map((t) => ({ taskId: t.id, state, message: state })) });
  await report("running");
  // Only the first start counts: a restart is not a start latency.
  await report("restarting");
  await report("running");

  const text = await scrape(h);
  expect(text).toContain("# TYPE cube_api_request_duration_seconds histogram");
  expect(text).toMatch(/cube_api_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/v1\/jobs",status="201"\} 1\n/);
  expect(text).toMatch(/cube_api_request_duration_seconds_count\{method="GET",route="\/v1\/jobs\/:name",status="200"\} 1\n/);
  expect(text).toContain("# TYPE cube_scheduling_duration_seconds histogram");
  expect(text).toMatch(/cube_scheduling_duration_seconds_count 1\n/);
  // Both tasks were made and placed by one evaluation: no wait.
  expect(text).toMatch(/cube_task_scheduling_latency_seconds_bucket\{le="0\.001"\} 2\n/);
  // Made at evaluation, reported running 2 s later.
  expect(text).toMatch(/cube_task_start_latency_seconds_bucket\{le="1"\} 0\n/);
  expect(text).toMatch(/cube_task_start_latency_seconds_bucket\{le="2\.5"\} 2\n/);
  expect(text).toMatch(/cube_task_start_latency_seconds_count 2\n/);
  expect(text).toMatch(/cube_task_start_latency_seconds_sum 4\n/);
  expect(text).toContain('cube_tasks{state="running"} 2');
  expect(text).toContain('cube_jobs{status="running"} 1');
  expect(text).toContain('cube_nodes{status="ready"} 1');
  expect(text).toContain("cube_placements_total 2");
  expect(text).toContain("cube_evaluations_total");
});

test("the process's metrics (memory, cpu, open files, event-loop lag) and cube_build_info come with each endpoint", async () => {
  const text = await scrape(new ApiHarness());
  for (const family of ["process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds", "nodejs_eventloop_lag_seconds"]) {
    expect(text).toMatch(new RegExp(`^${family} \\d`, "m"));
  }
  expect(text).toMatch(/^cube_build_info\{version="\d+\.\d+\.\d+[^"]*",commit="[^"]+",date="[^"]+"\} 1$/m);
});

test("two managers in one process keep their own counts", async () => {
  const a = new ApiHarness();
  const b = new ApiHarness();
  await a.register("w1");
  await a.call("POST", "/v1/jobs", job("web", 3));
  a.manager.reconcileNow();
  expect(await scrape(a)).toContain("cube_placements_total 3");
  const other = await scrape(b);
  expect(other).toContain("cube_placements_total 0");
  expect(other).not.toContain('route="/v1/jobs",status="201"');
});
