import { afterAll, beforeAll, expect, test } from "bun:test";
import { ApiClient } from "../../src/client/api-client.ts";
import { LABELS } from "../../src/driver/driver.ts";
import { containersWithLabel, removeContainersWithLabel, requireDocker, TEST_IMAGE } from "../support/docker.ts";
import { uniqueJobName } from "../support/local-cluster.ts";
import { CubeProcess, requireBinary } from "../support/processes.ts";
import { releaseServiceAddresses } from "../support/service-addresses.ts";
import { waitFor } from "../support/wait-for.ts";

const name = uniqueJobName("dev");
let dev: CubeProcess | undefined;

beforeAll(async () => {
  requireBinary();
  await requireDocker();
});

afterAll(async () => {
  await dev?.stop("SIGKILL");
  await removeContainersWithLabel(LABELS.job, name);
  // Workers that stop cleanly take their addresses away; one killed leaves them in its data dir's block.
  const dataDir = dev?.output.match(/data in (\S+)\)/)?.[1];
  if (dataDir) await releaseServiceAddresses(dataDir);
});

test("cube dev runs a manager and workers in one process, tells how to reach it, and SIGTERM stops everything it started", async () => {
  dev = new CubeProcess(["dev", "--port=0", "--workers=2"]);
  const url = (await dev.waitForOutput(/manager: (\S+)/))[1] as string;
  const token = (await dev.waitForOutput(/export CUBE_TOKEN=(\S+)/))[1] as string;
  expect(dev.output).toContain(`export CUBE_ADDR=${url}`);
  expect(dev.output).toMatch(/ui: +http:\/\/\S+\/ui/);
  const client = new ApiClient(url, { token });
  const nodes = await waitFor("2 ready nodes", async () => {
    const list = await client.listNodes();
    return list.length === 2 && list.every((n) => n.status === "ready") ? list : undefined;
  });
  expect(nodes.map((n) => n.name)).toEqual(["dev-1", "dev-2"]);

  await client.submitJob(JSON.stringify({ name, tasks: [{ name: "main", image: TEST_IMAGE, command: ["sleep", "600"], count: 2, resources: { memory: 16 } }] }), "json");
  await waitFor("2 running containers", async () => ((await containersWithLabel(LABELS.job, name)).filter((c) => c.State === "running").length === 2 ? true : undefined));

  expect(await dev.stop("SIGTERM")).toBe(0);
  expect(await containersWithLabel(LABELS.job, name)).toEqual([]);
});
