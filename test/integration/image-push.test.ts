import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ImageOnNode } from "../../src/model/api-types.ts";
import { docker, requireDocker, TEST_IMAGE } from "../support/docker.ts";
import { startTestEngine, type TestEngine } from "../support/docker-engine.ts";
import { uniqueJobName } from "../support/local-cluster.ts";
import { ProcessCluster } from "../support/process-cluster.ts";
import { cube, requireBinary } from "../support/processes.ts";
import { jobWhen } from "../support/wait-for.ts";

/** A tag only this machine's engine has: no registry can supply it. */
const LOCAL_ONLY = `cube-test/pushed-${crypto.randomUUID().slice(0, 8)}:1`;
let engine: TestEngine | undefined;
let cluster: ProcessCluster | undefined;
const cli = (args: string[]) => cube(args, { CUBE_ADDR: `http://127.0.0.1:${cluster?.port}`, CUBE_TOKEN: cluster?.managementToken ?? "" });

beforeAll(async () => {
  requireBinary();
  await requireDocker();
  await docker.getImage(TEST_IMAGE).tag({ repo: LOCAL_ONLY.split(":")[0] as string, tag: "1" });
  engine = await startTestEngine();
  cluster = await ProcessCluster.start({ workers: ["main-engine"] });
  await cluster.startWorker("own-engine", undefined, [`--docker-host=${engine.host}`]);
  await cluster.waitForReadyNodes(2);
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await engine?.stop();
  await docker.getImage(LOCAL_ONLY).remove().catch(() => undefined);
});

test("a task whose image is on no node and cannot be pulled stays pending saying so; cube image push brings it to the node, where the task runs", async () => {
  const c = cluster as ProcessCluster;
  const name = uniqueJobName("pushed");
  const spec = {
    name,
    type: "batch",
    constraints: [{ attribute: "node.name", value: "own-engine" }],
    tasks: [{ name: "main", image: LOCAL_ONLY, command: ["sh", "-c", "echo ran from the pushed image"], resources: { cpu: 0.01, memory: 8 } }],
  };
  await c.client.submitJob(JSON.stringify(spec), "json");
  // The first try fails on the node (its engine has no copy, no registry has one); the next waits.
  const waiting = await jobWhen(c.client, name, "a task pending for its image", (j) => j.tasks.some((t) => t.state === "pending" && t.message.includes("cannot be pulled")), 30_000);
  const pending = waiting.tasks.find((t) => t.state === "pending");
  expect(pending?.message).toContain(`image ${LOCAL_ONLY} is not on this node and cannot be pulled`);
  expect(pending?.message).toContain(`push it with cube image push ${LOCAL_ONLY}`);
  expect(waiting.tasks.filter((t) => t.state === "failed").every((t) => t.exitCode === null)).toBe(true);

  const before = await c.client.imageNodes(LOCAL_ONLY);
  const localId = (await docker.getImage(LOCAL_ONLY).inspect()).Id;
  expect(before.nodes.map((n: ImageOnNode) => [n.nodeName, n.id])).toEqual([["main-engine", localId], ["own-engine", null]]);

  const push = await cli(["image", "push", LOCAL_ONLY]);
  expect(push.exitCode).toBe(0);
  // Progress per node: the node on this machine's engine has it already; the other got it, bytes counted.
  expect(push.stderr).toMatch(/main-engine\s+\[#{24}\]\s+0\.0 MiB\s+already there \([0-9a-f]{12}\)/);
  expect(push.stderr).toMatch(new RegExp(`own-engine\\s+\\[#{24}\\]\\s+[1-9][\\d.]* MiB\\s+loaded ${LOCAL_ONLY.replace(/[.]/g, "\\.")}`));
  expect((await (engine as TestEngine).docker.getImage(LOCAL_ONLY).inspect()).Id).toBe(localId);

  const done = await jobWhen(c.client, name, "its task completed on the node with its own engine", (j) => j.tasks.some((t) => t.state === "completed"), 30_000);
  const ran = done.tasks.find((t) => t.state === "completed");
  expect(ran?.nodeName).toBe("own-engine");
  const logs = await cli(["logs", `${name}.main.0`]);
  expect(logs.stdout).toBe("ran from the pushed image\n");
  // The container ran on the second engine, not on this machine's.
  expect((await (engine as TestEngine).docker.listContainers({ all: true, filters: { label: [`cube.job=${name}`] } })).length).toBe(1);

  // Pushed again: every engine has this id, so nothing is sent.
  const again = await cli(["image", "push", LOCAL_ONLY, "--node", "own-engine", "--json"]);
  expect(again.exitCode).toBe(0);
  expect((JSON.parse(again.stdout) as { nodes: { node: string; state: string; sent: number }[] }).nodes).toEqual([expect.objectContaining({ node: "own-engine", state: "skipped", sent: 0 })]);
}, 120_000);

test("pushing an image this machine does not have, or to a node that does not exist, fails saying so", async () => {
  const missing = await cli(["image", "push", "cube-test/nowhere:1"]);
  expect(missing.exitCode).toBe(1);
  expect(missing.stderr).toContain("image cube-test/nowhere:1 is not in this machine's Docker engine");
  const noNode = await cli(["image", "push", TEST_IMAGE, "--node", "nope"]);
  expect(noNode.exitCode).toBe(1);
  expect(noNode.stderr).toContain("node nope does not exist");
});

test("a second engine on this machine leaves the main engine's docker0 bridge alone", async () => {
  const before = (await Bun.$`ip -o link show docker0`.text()).split(":")[0];
  const other = await startTestEngine();
  await other.stop();
  const after = await Bun.$`ip -o link show docker0`.nothrow().text();
  // Same interface, same index: not deleted (and re-created by someone else) while the second engine ran.
  expect(after.split(":")[0]).toBe(before);
  const run = await docker.run(TEST_IMAGE, ["true"], process.stdout, { HostConfig: { AutoRemove: true } });
  expect(run[0].StatusCode).toBe(0);
}, 60_000);
