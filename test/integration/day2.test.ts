import { afterAll, beforeAll, expect, test } from "bun:test";
import type { JobDetail } from "../../src/model/api-types.ts";
import { requireDocker, TEST_IMAGE } from "../support/docker.ts";
import { uniqueJobName } from "../support/local-cluster.ts";
import { ProcessCluster, sleeperJob } from "../support/process-cluster.ts";
import { cube, requireBinary } from "../support/processes.ts";
import { jobWhen, waitFor } from "../support/wait-for.ts";

let cluster: ProcessCluster;
let token = "";
/** The compiled CLI against the cluster, with its management token. */
const cli = (args: string[]) => cube(args, { CUBE_ADDR: `http://127.0.0.1:${cluster.port}`, CUBE_TOKEN: token });

beforeAll(async () => {
  requireBinary();
  await requireDocker();
  cluster = await ProcessCluster.start({ workers: ["d2-w1"] });
  token = cluster.managementToken;
});

afterAll(async () => {
  await cluster?.close();
});

test("a periodic job launches a run each time its schedule comes due; cube status shows the runs and the next time; a run's task logs are read by name", async () => {
  const name = uniqueJobName("every2s");
  const spec = { name, type: "batch", schedule: "*/2 * * * * *", tasks: [{ name: "main", image: TEST_IMAGE, command: ["sh", "-c", "echo run of $CUBE_RUN_NOTE done"], env: { CUBE_RUN_NOTE: "note" }, resources: { cpu: 0.01, memory: 8 } }] };
  await cluster.client.submitJob(JSON.stringify(spec), "json");
  const job = await jobWhen(cluster.client, name, "two completed runs", (j) => (j.periodic?.runs.filter((r) => r.status === "completed").length ?? 0) >= 2, 30_000);
  const periodic = job.periodic as NonNullable<JobDetail["periodic"]>;
  expect(periodic.schedule).toBe("*/2 * * * * *");
  expect(periodic.next).toBeGreaterThan(Date.now() - 2_000);
  // One run per due time: names are distinct and their times two seconds apart (or a multiple, when one was skipped).
  const times = periodic.runs.map((r) => r.at);
  expect(new Set(times).size).toBe(times.length);
  for (const t of times) expect(t % 2_000).toBe(0);
  const completed = periodic.runs.find((r) => r.status === "completed") as (typeof periodic.runs)[number];
  expect(completed.job).toBe(`${name}-${completed.at / 1000}`);

  const status = await cli(["status", name]);
  expect(status.exitCode).toBe(0);
  expect(status.stdout).toContain(`job ${name} (periodic batch)`);
  expect(status.stdout).toMatch(/schedule "\*\/2 \* \* \* \* \*" \(UTC\), overlap skip; next run \d{4}-/);
  expect(status.stdout).toMatch(new RegExp(`${completed.job}\\s+\\S+Z\\s+completed\\s+1 completed`));

  const logs = await cli(["logs", `${completed.job}.main.0`]);
  expect(logs.stderr).toBe("");
  expect(logs.stdout).toBe("run of note done\n");

  await cluster.client.stopJob(name);
  const stopped = await cluster.client.getJob(name);
  expect(stopped.periodic?.next).toBeNull();
  const runsAtStop = stopped.periodic?.runs.length;
  await Bun.sleep(2_500);
  expect((await cluster.client.getJob(name)).periodic?.runs.length).toBe(runsAtStop);
}, 60_000);

test("cube logs, exec, tasks and task stop take a task's name", async () => {
  const name = uniqueJobName("names");
  await cluster.client.submitJob(sleeperJob(name, 2), "json");
  await jobWhen(cluster.client, name, "two running tasks", (j) => j.tasks.filter((t) => t.state === "running").length === 2);
  const exec = await cli(["exec", `${name}.main.1`, "--", "sh", "-c", "echo in $HOSTNAME; exit 3"]);
  expect(exec.stdout).toMatch(/^in \w+\n$/);
  expect(exec.exitCode).toBe(3);
  const shown = await cli(["tasks", `${name}.main.0`, "--json"]);
  const task = JSON.parse(shown.stdout) as { id: string; name: string };
  expect(task.name).toBe(`${name}.main.0`);
  const logs = await cli(["logs", `${name}.main.0`]);
  expect(logs.exitCode).toBe(0);
  const stop = await cli(["task", "stop", `${name}.main.0`]);
  expect(stop.stdout).toBe(`task ${name}.main.0 stopping\n`);
  // The slot's replacement is what the name means now.
  const replaced = await waitFor("a replacement in slot 0", async () => {
    const t = JSON.parse((await cli(["tasks", `${name}.main.0`, "--json"])).stdout) as { id: string; state: string };
    return t.id !== task.id && t.state === "running" ? t : undefined;
  });
  expect(replaced.id).not.toBe(task.id);
  const missing = await cli(["logs", `${name}.main.5`]);
  expect(missing.exitCode).toBe(1);
  expect(missing.stderr).toContain(`task ${name}.main.5 does not exist`);
}, 60_000);
