import Docker from "dockerode";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./wait-for.ts";

/** A Docker engine of the test's own on this machine, beside the main one. */
export interface TestEngine {
  /** `unix:///…/docker.sock`, for --docker-host. */
  host: string;
  docker: Docker;
  stop(): Promise<void>;
}

async function ip(...args: string[]): Promise<string> {
  const proc = Bun.spawn(["ip", ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (exitCode !== 0) throw new Error(`ip ${args.join(" ")} failed (exit ${exitCode}): ${stderr.trim()} (a second engine needs root and iproute2)`);
  return stdout;
}

/**
 * A bridge of the engine's own on a free 10.215.N.0/24. Not `--bridge=none`: a dockerd started so
 * deletes the machine's `docker0` (Moby's removeDefaultBridgeInterface), and the main engine's
 * containers can no longer start.
 */
async function ownBridge(): Promise<string> {
  const used = new Set([...(await ip("-4", "-o", "addr", "show")).matchAll(/inet 10\.215\.(\d+)\./g)].map((m) => Number(m[1])));
  const octet = [...Array(254).keys()].map((i) => i + 1).find((n) => !used.has(n));
  if (octet === undefined) throw new Error("no free 10.215.N.0/24 left for a test engine's bridge");
  const name = `cubeeng${octet}`;
  await ip("link", "add", name, "type", "bridge");
  await ip("addr", "add", `10.215.${octet}.1/24`, "dev", name);
  await ip("link", "set", name, "up");
  return name;
}

/**
 * Starts a second dockerd with its own data root, exec root (its own containerd), pid file, socket
 * and bridge, in a temp dir, with no iptables rules, so it leaves the machine's networking alone.
 * stop() ends it by pid and removes the dir and the bridge, whatever the test left in them.
 */
export async function startTestEngine(): Promise<TestEngine> {
  const dir = mkdtempSync(join(tmpdir(), "cube-engine-"));
  const socket = join(dir, "docker.sock");
  const bridge = await ownBridge();
  const proc = Bun.spawn(
    ["dockerd", `--data-root=${join(dir, "data")}`, `--exec-root=${join(dir, "exec")}`, `--pidfile=${join(dir, "dockerd.pid")}`, `--host=unix://${socket}`, `--bridge=${bridge}`, "--iptables=false", "--ip6tables=false", "--ip-masq=false"],
    { stdin: "ignore", stdout: "ignore", stderr: Bun.file(join(dir, "dockerd.log")) },
  );
  const docker = new Docker({ socketPath: socket });
  const stop = async () => {
    if (proc.exitCode === null) proc.kill("SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(15_000)]);
    if (proc.exitCode === null) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    await ip("link", "del", bridge).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor("the test's own dockerd to answer", async () => ((await docker.ping().catch(() => null)) ? true : undefined), 30_000, 200);
  } catch (err) {
    const log = await Bun.file(join(dir, "dockerd.log")).text().catch(() => "");
    await stop();
    throw new Error(`${(err as Error).message}; dockerd's log ends:\n${log.split("\n").slice(-15).join("\n")}`);
  }
  return { host: `unix://${socket}`, docker, stop };
}
