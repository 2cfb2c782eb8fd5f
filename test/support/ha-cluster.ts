import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../../src/client/api-client.ts";
import { LABELS } from "../../src/driver/driver.ts";
import { readSecretFile } from "../../src/lib/secret-file.ts";
import type { ManagerView } from "../../src/model/api-types.ts";
import { containersWithLabel, removeContainersWithLabel } from "./docker.ts";
import { type EtcdCluster, requireEtcd, startEtcdCluster } from "./etcd-cluster.ts";
import { freePort } from "./free-port.ts";
import { CubeProcess, managerTokens } from "./processes.ts";
import { HEARTBEAT_TTL_MS } from "./process-cluster.ts";
import { waitFor } from "./wait-for.ts";

interface ManagerProcess {
  name: string;
  url: string;
  proc: CubeProcess;
}

/**
 * Highly available managers as real processes of the compiled binary: a 3-member etcd cluster,
 * managers m1..mN on it (heartbeat TTL 3 s, leader lease 3 s) and workers that join all of them.
 * close() kills every process it started, removes the containers its nodes ran, the temp dirs and etcd.
 */
export class HaCluster {
  /** Talks to every manager (moving on when one stops answering), with the management token. */
  readonly client: ApiClient;
  readonly managers: ManagerProcess[] = [];
  private readonly workers = new Map<string, CubeProcess>();
  private readonly started: CubeProcess[] = [];

  private constructor(
    readonly etcd: EtcdCluster,
    private readonly dataDir: string,
    ports: number[],
  ) {
    ports.forEach((port, i) => this.managers.push({ name: `m${i + 1}`, url: `http://127.0.0.1:${port}`, proc: undefined as unknown as CubeProcess }));
    this.client = new ApiClient(this.managers.map((m) => m.url).join(","), { timeoutMs: 5_000 });
  }

  static async start({ managers = 3, workers = [] as string[] } = {}): Promise<HaCluster> {
    requireEtcd();
    const etcd = await startEtcdCluster({ members: 3 });
    const cluster = new HaCluster(etcd, mkdtempSync(join(tmpdir(), "cube-ha-")), Array.from({ length: managers }, () => freePort()));
    try {
      // The first makes the management and join tokens (in its data dir); the others find them in etcd.
      for (let i = 0; i < managers; i++) await cluster.startManager(i);
      cluster.client.useToken(managerTokens(cluster.managerDir(0)).management);
      await Promise.all(workers.map((name) => cluster.startWorker(name)));
      if (workers.length > 0) await cluster.waitForReadyNodes(workers.length);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  get storeUrl(): string {
    return `etcd://${this.etcd.endpoints.map((e) => e.replace("http://", "")).join(",")}`;
  }

  get token(): string {
    return managerTokens(this.managerDir(0)).management;
  }

  /** A client of one manager only (no failover), with the management token. */
  clientOf(i: number): ApiClient {
    return new ApiClient((this.managers[i] as ManagerProcess).url, { token: this.token, timeoutMs: 5_000 });
  }

  async startManager(i: number): Promise<void> {
    const m = this.managers[i] as ManagerProcess;
    m.proc = new CubeProcess([
      "serve", "--role=manager", `--store=${this.storeUrl}`, `--name=${m.name}`, `--port=${new URL(m.url).port}`, "--bind=127.0.0.1",
      `--data-dir=${this.managerDir(i)}`, `--heartbeat-ttl=${HEARTBEAT_TTL_MS}ms`,
    ]);
    this.started.push(m.proc);
    await m.proc.waitForOutput(/manager listening/);
  }

  async startWorker(name: string): Promise<void> {
    const { join: joinToken } = managerTokens(this.managerDir(0));
    const worker = new CubeProcess([
      "serve", "--role=worker", `--join=${this.managers.map((m) => m.url).join(",")}`, `--join-token=${joinToken}`, "--port=0", "--bind=127.0.0.1",
      `--name=${name}`, `--data-dir=${join(this.dataDir, "workers", name)}`, "--heartbeat-interval=1s",
    ]);
    this.started.push(worker);
    this.workers.set(name, worker);
    await worker.waitForOutput(/worker listening/);
  }

  /** The index of the manager that leads now, as the managers that answer say (waits while none does). */
  async leader(timeoutMs = 15_000): Promise<number> {
    return waitFor("a leader among the managers", async () => {
      const views = await this.client.managers().catch(() => [] as ManagerView[]);
      const leader = views.find((v) => v.leader && this.alive(this.indexOf(v.name)));
      return leader ? this.indexOf(leader.name) : undefined;
    }, timeoutMs, 50);
  }

  /** Whether manager i's process runs (a process killed by a signal has a signalCode, not an exitCode). */
  alive(i: number): boolean {
    const proc = this.managers[i]?.proc.proc;
    return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
  }

  indexOf(name: string): number {
    return this.managers.findIndex((m) => m.name === name);
  }

  outputOf(i: number): string {
    return this.managers[i]?.proc.output ?? "";
  }

  waitForReadyNodes(count: number, timeoutMs = 20_000): Promise<void> {
    return waitFor(`${count} ready nodes`, async () => {
      const nodes = await this.client.listNodes().catch(() => []);
      return nodes.length === count && nodes.every((n) => n.status === "ready") ? true : undefined;
    }, timeoutMs).then(() => undefined);
  }

  managerDir(i: number): string {
    return join(this.dataDir, `manager-${i + 1}`);
  }

  async close(): Promise<void> {
    for (const p of this.started) {
      p.proc.kill("SIGCONT");
      await p.stop("SIGKILL");
    }
    const dir = join(this.dataDir, "workers");
    const nodeIds = existsSync(dir)
      ? [...new Bun.Glob("**/node-id").scanSync({ cwd: dir, onlyFiles: true })].map((f) => readSecretFile(join(dir, f))).filter((id): id is string => id !== null)
      : [];
    for (let pass = 0; pass < 3; pass++) {
      const left = (await Promise.all(nodeIds.map((id) => containersWithLabel(LABELS.nodeId, id)))).flat();
      if (left.length === 0) break;
      for (const id of nodeIds) await removeContainersWithLabel(LABELS.nodeId, id);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
    await this.etcd.stop();
  }
}
