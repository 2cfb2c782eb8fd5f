import { afterAll, beforeAll, expect, test } from "bun:test";
import { requireDocker } from "../support/docker.ts";
import { type LocalCluster, startLocalCluster, uniqueJobName } from "../support/local-cluster.ts";
import { sleeperJob } from "../support/process-cluster.ts";
import { jobWhen } from "../support/wait-for.ts";

let local: LocalCluster;

beforeAll(async () => {
  if (!Bun.which("promtool")) throw new Error("this test needs promtool (Debian's prometheus package): run scripts/promtool.sh");
  await requireDocker();
  local = await startLocalCluster(1);
});

afterAll(async () => {
  await local?.close();
});

/** promtool's lint of a /metrics page: what it complains about, empty when nothing. */
function promtoolCheck(text: string): { exitCode: number; output: string } {
  const result = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: Buffer.from(text), stdout: "pipe", stderr: "pipe" });
  return { exitCode: result.exitCode, output: `${result.stdout}${result.stderr}` };
}

test("promtool check metrics passes on the manager's and a worker's /metrics, with a task running", async () => {
  const name = uniqueJobName("metrics");
  await local.client.submitJob(sleeperJob(name, 1), "json");
  const job = await jobWhen(local.client, name, "its task running", (j) => j.tasks.some((t) => t.state === "running"));
  const taskId = job.tasks[0]?.id as string;

  const manager = await (await fetch(`${local.cluster.url}/metrics`, { headers: { authorization: `Bearer ${local.cluster.token}` } })).text();
  const worker = await (await fetch(`${local.cluster.workers[0]?.url}/metrics`)).text();
  expect(promtoolCheck(manager)).toEqual({ exitCode: 0, output: "" });
  expect(promtoolCheck(worker)).toEqual({ exitCode: 0, output: "" });

  expect(manager).toMatch(/^cube_task_start_latency_seconds_count 1$/m);
  expect(manager).toMatch(/^process_resident_memory_bytes \d+/m);
  expect(worker).toMatch(/^cube_worker_container_start_seconds_count 1$/m);
  expect(worker).toMatch(new RegExp(`^cube_task_cpu_seconds_total\\{task="${taskId}",name="${name}.main.0"\\} [\\d.e-]+$`, "m"));
  expect(worker).toMatch(new RegExp(`^cube_task_memory_bytes\\{task="${taskId}",name="${name}.main.0"\\} [1-9]\\d*$`, "m"));
  expect(worker).toMatch(/^cube_worker_tasks\{state="active"\} 1$/m);
  expect(worker).toMatch(/^cube_build_info\{/m);
  expect(worker).toMatch(/^nodejs_eventloop_lag_seconds /m);

  // promtool is not a rubber stamp: a counter without _total is flagged.
  expect(promtoolCheck("# HELP bad_counter A counter.\n# TYPE bad_counter counter\nbad_counter 1\n").output).toContain("counter metrics should have \"_total\" suffix");
});
