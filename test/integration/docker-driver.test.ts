import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DockerDriver } from "../../src/driver/docker/docker-driver.ts";
import { DriverError, LABELS, type TaskConfig } from "../../src/driver/driver.ts";
import { containersWithLabel, docker, removeContainersWithLabel, requireDocker, TEST_IMAGE } from "../support/docker.ts";
import { waitFor } from "../support/wait-for.ts";

// Everything this run creates carries the run id, so afterAll removes exactly its own containers.
const runId = `driver-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
const nodeId = `node-${runId}`;
const driver = new DockerDriver({ extraLabels: { "cube.test": runId } });
const HTTPD = ["httpd", "-f", "-p", "8080", "-h", "/www"];

let nextIndex = 0;
function task(spec: Partial<TaskConfig["spec"]>): TaskConfig {
  return {
    taskId: crypto.randomUUID(),
    job: "drv",
    group: "main",
    index: nextIndex++,
    nodeId,
    spec: { image: TEST_IMAGE, env: {}, labels: {}, resources: { cpu: 0.1, memory: 32, disk: 10 }, ports: [], ...spec },
  };
}

const sh = (script: string) => task({ command: ["sh", "-c", script] });

async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** httpd needs a moment after the container starts before it accepts connections. */
function httpGet(port: number): Promise<string> {
  return waitFor(`an answer on 127.0.0.1:${port}`, async () => (await fetch(`http://127.0.0.1:${port}/`)).text(), 3_000);
}

async function expectDriverError(promise: Promise<unknown>): Promise<DriverError> {
  const err = await promise.then(
    () => new Error("expected a DriverError, but the call succeeded"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DriverError);
  return err as DriverError;
}

beforeAll(async () => {
  await requireDocker();
});

afterAll(async () => {
  await removeContainersWithLabel("cube.test", runId);
});

describe("DockerDriver against the real engine", () => {
  test("ping answers; an engine that is not there is named in the error", async () => {
    await driver.ping();
    const err = await expectDriverError(new DockerDriver({ socketPath: "/nonexistent/docker.sock" }).ping());
    expect(err.code).toBe("engine_unreachable");
    expect(err.message).toContain("/nonexistent/docker.sock");
  });

  test("starts an httpd task with labels, limits, no restart policy and an engine-picked host port", async () => {
    const config = task({ command: HTTPD, resources: { cpu: 0.5, memory: 64, disk: 10 }, ports: [{ name: "http", container: 8080 }], labels: { team: "web" } });
    const handle = await driver.start(config);
    expect(handle.taskId).toBe(config.taskId);

    const info = await docker.getContainer(handle.containerId).inspect();
    expect(info.Config.Labels).toMatchObject({
      [LABELS.taskId]: config.taskId,
      [LABELS.job]: "drv",
      [LABELS.group]: "main",
      [LABELS.index]: String(config.index),
      [LABELS.nodeId]: nodeId,
      team: "web",
      "cube.test": runId,
    });
    expect(info.Name).toBe(`/cube-drv-main-${config.index}-${config.taskId.slice(0, 8)}`);
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.RestartPolicy?.Name).toBe("no");

    const hostPort = handle.hostPorts.http;
    expect(hostPort).toBeGreaterThan(0);
    const bound = info.NetworkSettings.Ports["8080/tcp"]?.map((b) => Number(b.HostPort));
    expect(bound).toContain(hostPort as number);
    expect(await httpGet(hostPort as number)).toContain("hello from cube");
  });

  test("binds a fixed host port when one is given", async () => {
    const port = await freePort();
    const handle = await driver.start(task({ command: HTTPD, ports: [{ name: "web", container: 8080, host: port }] }));
    expect(handle.hostPorts).toEqual({ web: port });
    expect(await httpGet(port)).toContain("hello from cube");
  });

  test("wait gives the exit code, at once when the container has already exited", async () => {
    const handle = await driver.start(sh("exit 3"));
    const exit = await driver.wait(handle.containerId);
    expect(exit).toMatchObject({ exitCode: 3, oomKilled: false, description: "exit code 3" });
    expect(exit.finishedAt).toBeGreaterThan(0);

    const began = Date.now();
    expect((await driver.wait(handle.containerId)).exitCode).toBe(3);
    expect(Date.now() - began).toBeLessThan(1_000);
  });

  test("logs give stdout and stderr demultiplexed, or stdout alone", async () => {
    const handle = await driver.start(sh("echo out; echo err >&2"));
    await driver.wait(handle.containerId);
    const both = await new Response(await driver.logs(handle.containerId, { follow: false, stdout: true, stderr: true })).text();
    expect(both.split("\n").sort()).toEqual(["", "err", "out"]);
    const stdoutOnly = await new Response(await driver.logs(handle.containerId, { follow: false, stdout: true, stderr: false })).text();
    expect(stdoutOnly).toBe("out\n");
  });

  test("followed logs deliver a line printed later and close when the container exits", async () => {
    const handle = await driver.start(sh("echo first; sleep 1; echo later"));
    const stream = await driver.logs(handle.containerId, { follow: true, stdout: true, stderr: true });
    const began = Date.now();
    const text = await new Response(stream).text();
    expect(text).toBe("first\nlater\n");
    expect(Date.now() - began).toBeGreaterThan(500);
  });

  test("followed logs close when the signal aborts, with the container still running", async () => {
    const handle = await driver.start(sh("while true; do echo tick; sleep 0.2; done"));
    const abort = new AbortController();
    const reader = (await driver.logs(handle.containerId, { follow: true, stdout: true, stderr: true, signal: abort.signal })).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("tick");
    abort.abort();
    const deadline = Date.now() + 2_000;
    let done = false;
    while (!done && Date.now() < deadline) done = (await reader.read()).done;
    expect(done).toBe(true);
    expect((await docker.getContainer(handle.containerId).inspect()).State.Running).toBe(true);
  });

  test("stop ends a process that ignores SIGTERM within the timeout; stopping again is fine", async () => {
    // sleep as PID 1 has no SIGTERM handler, so the kernel ignores the signal and only SIGKILL ends it.
    const handle = await driver.start(task({ command: ["sleep", "1000"] }));
    const began = Date.now();
    await driver.stop(handle.containerId, 1_000);
    expect(Date.now() - began).toBeLessThan(1_000 + 3_000);
    expect((await docker.getContainer(handle.containerId).inspect()).State.Running).toBe(false);
    expect((await driver.wait(handle.containerId)).description).toBe("exit code 137 (signal 9, SIGKILL)");
    await driver.stop(handle.containerId, 1_000);
  }, 15_000);

  test("stop sends the container's own stop signal, as docker stop does, and waits for the exit it causes", async () => {
    // Cube's specs set no stop signal; an image's STOPSIGNAL lands in the container's config the same way.
    const container = await docker.createContainer({
      Image: TEST_IMAGE,
      Cmd: ["sh", "-c", "trap 'exit 7' USR1; while true; do sleep 0.1; done"],
      StopSignal: "SIGUSR1",
      Labels: { "cube.test": runId },
    });
    await container.start();
    await driver.stop(container.id, 10_000);
    const { State } = await container.inspect();
    expect(State.Running).toBe(false);
    expect(State.ExitCode).toBe(7);
  }, 15_000);

  test("containers stopped all at once all exit, on their stop signal or at the end of their grace period", async () => {
    const obeying = await Promise.all(Array.from({ length: 12 }, () => driver.start(sh("trap 'exit 0' TERM; while true; do sleep 0.1; done"))));
    const ignoring = await Promise.all(Array.from({ length: 4 }, () => driver.start(task({ command: ["sleep", "1000"] }))));
    const began = Date.now();
    await Promise.all([...obeying, ...ignoring].map((h) => driver.stop(h.containerId, 1_500)));
    // The 4 that ignore SIGTERM get their whole grace period, and the stops do not wait out one grace after another.
    const took = Date.now() - began;
    expect(took).toBeGreaterThanOrEqual(1_500);
    // One after another they would take 4 × 1.5 s and more.
    expect(took).toBeLessThan(1_500 + 5_000);
    for (const h of obeying) expect((await driver.wait(h.containerId)).exitCode).toBe(0);
    for (const h of ignoring) expect((await driver.wait(h.containerId)).exitCode).toBe(137);
  }, 30_000);

  test("destroy removes the container; destroying again is fine; waiting on it is not_found", async () => {
    const handle = await driver.start(task({ command: ["sleep", "1000"] }));
    await driver.destroy(handle.containerId);
    const inspected = await docker.getContainer(handle.containerId).inspect().then(
      () => 200,
      (err: { statusCode?: number }) => err.statusCode,
    );
    expect(inspected).toBe(404);
    await driver.destroy(handle.containerId);
    await driver.stop(handle.containerId, 1_000);
    expect((await expectDriverError(driver.wait(handle.containerId))).code).toBe("not_found");
  });

  test("recover lists this node's containers, running or exited, decoded from their labels", async () => {
    const running = task({ command: HTTPD, ports: [{ name: "http", container: 8080 }] });
    const exited = sh("exit 5");
    const runningHandle = await driver.start(running);
    const exitedHandle = await driver.start(exited);
    await driver.wait(exitedHandle.containerId);

    const recovered = await driver.recover(nodeId);
    expect(recovered.find((r) => r.taskId === running.taskId)).toMatchObject({
      job: "drv",
      group: "main",
      index: running.index,
      containerId: runningHandle.containerId,
      running: true,
      exitCode: null,
      hostPorts: runningHandle.hostPorts,
    });
    expect(recovered.find((r) => r.taskId === exited.taskId)).toMatchObject({
      job: "drv",
      group: "main",
      index: exited.index,
      containerId: exitedHandle.containerId,
      running: false,
      exitCode: 5,
    });
    for (const r of recovered) expect(r.startedAt).toBeGreaterThan(0);
    expect(await driver.recover(`${nodeId}-other`)).toEqual([]);
  });

  test("a missing image that cannot be pulled fails naming the image and leaves no container behind", async () => {
    const config = task({ image: "cube-test/does-not-exist:1" });
    const err = await expectDriverError(driver.start(config));
    expect(["image_pull_failed", "image_not_found"]).toContain(err.code);
    expect(err.message).toContain('"cube-test/does-not-exist:1"');
    expect(await containersWithLabel(LABELS.taskId, config.taskId)).toEqual([]);
  });

  test("a container that is created but cannot start is removed, and the error gives the engine's reason", async () => {
    const taken = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
    try {
      const config = task({ command: HTTPD, ports: [{ name: "http", container: 8080, host: taken.port }] });
      const err = await expectDriverError(driver.start(config));
      expect(err.code).toBe("container_failed");
      expect(err.message).toContain(`${taken.port}`);
      expect(await containersWithLabel(LABELS.taskId, config.taskId)).toEqual([]);
    } finally {
      taken.stop(true);
    }
  });

  test("two tasks with the same job, group and index but different ids both start", async () => {
    const first = task({ command: ["sleep", "1000"] });
    const second = { ...first, taskId: crypto.randomUUID() };
    const [a, b] = await Promise.all([driver.start(first), driver.start(second)]);
    expect(a.containerId).not.toBe(b.containerId);
  });

  test("a container this task left behind (its name taken) is replaced, not a failure", async () => {
    const config = sh("sleep 30");
    const first = await driver.start(config);
    await driver.stop(first.containerId, 0);
    const second = await driver.start(config);
    expect(second.containerId).not.toBe(first.containerId);
    expect((await docker.getContainer(second.containerId).inspect()).State.Running).toBe(true);
    const err = await docker.getContainer(first.containerId).inspect().catch((e: { statusCode?: number }) => e);
    expect((err as { statusCode?: number }).statusCode).toBe(404);
  });
});
