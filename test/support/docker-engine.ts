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

/**
 * Starts a second dockerd with its own data root, exec root (its own containerd), pid file and socket
 * in a temp dir; no bridge and no iptables rules, so it leaves the machine's networking alone. stop()
 * ends it by pid and removes the dir, whatever the test left in it.
 */
export async function startTestEngine(): Promise<TestEngine> {
  const dir = mkdtempSync(join(tmpdir(), "cube-engine-"));
  const socket = join(dir, "docker.sock");
  const proc = Bun.spawn(
    ["dockerd", `--data-root=${join(dir, "data")}`, `--exec-root=${join(dir, "exec")}`, `--pidfile=${join(dir, "dockerd.pid")}`, `--host=unix://${socket}`, "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false"],
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
