import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../../src/client/api-client.ts";
import { LABELS } from "../../src/driver/driver.ts";
import { readSecretFile } from "../../src/lib/secret-file.ts";
import { isTerminal } from "../../src/model/task-state.ts";
import { containersWithLabel, removeContainersWithLabel, TEST_IMAGE } from "./docker.ts";
import { freePort } from "./free-port.ts";
import type { NetworkNamespace } from "./netns.ts";
import { CubeProcess, managerTokens } from "./processes.ts";
import { releaseServiceAddresses } from "./service-addresses.ts";
import { waitFor } from "./wait-for.ts";

/** The manager's heartbeat TTL; workers heartbeat every second. */
export const HEARTBEAT_TTL_MS = 3_000;

/** Exits on SIGTERM (a plain sleep as PID 1 ignores it), so stops are quick. */
export const SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

/** A service job of `count` sleepers with tiny resources and fast restarts; `extra` adds task fields. */
export function sleeperJob(name: string, count: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ name, tasks: [{ name: "main", image: TEST_IMAGE, command: SLEEPER, count, resources: { cpu: 0.01, memory: 8 }, restart: { delay: "200ms" }, ...extra }] });
}

/** The job's containers the engine is running (running only: finished ones are kept a while for their logs). */
export async function runningContainersOf(job: string): Promise<{ taskId: string; nodeId: string; containerId: string }[]> {
  const containers = await containersWithLabel(LABELS.job, job);
  return containers
    .filter((c) => c.State === "running")
    .map((c) => ({ taskId: c.Labels[LABELS.taskId] ?? "", nodeId: c.Labels[LABELS.nodeId] ?? "", containerId: c.Id }));
}


/** For a failing test: the job's live tasks as the API shows them (and finished ones the engine still runs), and what the engine runs. */
export async function describeJob(client: ApiClient, job: string): Promise<string> {
  const [tasks, nodes, running] = await Promise.all([client.listTasks({ job }), client.listNodes(), runningContainersOf(job)]);
  const names = new Map(nodes.map((n) => [n.id, `${n.name}(${n.status})`]));
  const nodeName = (id: string | null) => (id === null ? "-" : (names.get(id) ?? `${id}(unknown)`));
  const runningIds = new Set(running.map((c) => c.taskId));
  const taskLines = tasks
    .filter((t) => !isTerminal(t.state) || runningIds.has(t.id))
    .map((t) => `  ${t.id.slice(0, 8)} ${t.name} state=${t.state} desired=${t.desired} node=${nodeName(t.nodeId)} message=${JSON.stringify(t.message)}`);
  const containerLines = running.map((c) => `  task ${c.taskId.slice(0, 8)} node=${nodeName(c.nodeId)} container=${c.containerId.slice(0, 12)}`);
  return [
    `API tasks not finished, or finished but still running on the engine (${taskLines.length} of ${tasks.length}):`,
    ...taskLines,
    `running containers of ${job} on the engine (${containerLines.length}):`,
    ...containerLines,
  ].join("\n");
}

/**
 * Real processes of the compiled binary: a manager (heartbeat TTL 3 s, free port, temp data dir)
 * and workers that each keep their own data dir, so a worker killed and started again is the same
 * node. close() kills every process it started, removes every container its nodes ran and the
 * temp dirs, whatever state a failed test left them in.
 */
export class ProcessCluster {
  /** Carries the management token. */
  readonly client: ApiClient;
  private readonly started: CubeProcess[] = [];
  private readonly workers = new Map<string, CubeProcess>();
  private readonly namespaces = new Map<string, NetworkNamespace>();
  private manager: CubeProcess | undefined;

  private constructor(
    /** Holds the manager's data dir (`manager/`) and each worker's (`workers/NAME/`). */
    readonly dataDir: string,
    readonly port: number,
    private readonly bind: string,
  ) {
    this.client = new ApiClient(`http://127.0.0.1:${port}`);
  }

  /**
   * Starts the manager and the named workers and waits until every node is ready. `bind: "0.0.0.0"`
   * lets a worker in a network namespace reach the manager at the namespace's host address.
   */
  static async start(options: { workers: string[]; bind?: string }): Promise<ProcessCluster> {
    const cluster = new ProcessCluster(mkdtempSync(join(tmpdir(), "cube-cluster-")), freePort(), options.bind ?? "127.0.0.1");
    try {
      await cluster.startManager();
      await Promise.all(options.workers.map((name) => cluster.startWorker(name)));
      await cluster.waitForReadyNodes(options.workers.length);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /**
   * Starts (or starts again, on the same data dir) a worker heartbeating every second and waits
   * until it has joined. A worker started in a namespace is started there again on a restart.
   */
  async startWorker(name: string, namespace?: NetworkNamespace, extraArgs: string[] = []): Promise<void> {
    if (namespace) this.namespaces.set(name, namespace);
    const ns = this.namespaces.get(name);
    const { join: joinToken } = managerTokens(this.managerDir);
    const args = ["serve", "--role=worker", `--join-token=${joinToken}`, "--port=0", `--name=${name}`, `--data-dir=${this.workerDir(name)}`, "--heartbeat-interval=1s", ...extraArgs];
    const worker = ns
      ? new CubeProcess([...args, `--join=http://${ns.hostAddress}:${this.port}`, "--bind=0.0.0.0", `--advertise=${ns.innerAddress}`], { prefix: ns.exec })
      : new CubeProcess([...args, `--join=http://127.0.0.1:${this.port}`, "--bind=127.0.0.1"]);
    this.started.push(worker);
    this.workers.set(name, worker);
    await worker.waitForOutput(/worker listening/);
  }

  /** SIGKILL: the worker gets no chance to stop or report anything; its containers keep running. */
  async killWorker(name: string): Promise<void> {
    const worker = this.workers.get(name);
    if (!worker) throw new Error(`no worker ${name} in this cluster (it has ${[...this.workers.keys()].join(", ")})`);
    await worker.stop("SIGKILL");
  }

  /** The admin token the manager made at its first start (what `cube` commands against it need). */
  get managementToken(): string {
    return managerTokens(this.managerDir).management;
  }

  /** The node id the worker keeps in its data dir. */
  nodeId(name: string): string {
    const id = this.nodeIdsIn(this.workerDir(name))[0];
    if (!id) throw new Error(`worker ${name} has no node id in ${this.workerDir(name)}: has it started?`);
    return id;
  }

  /** What the manager (`"manager"`) or a worker printed, for a failing test's diagnostics. */
  outputOf(name: string): string {
    return (name === "manager" ? this.manager : this.workers.get(name))?.output ?? "";
  }

  /** For a failing test: the job's live tasks as the API shows them, and what the engine runs. */
  describeJob(job: string): Promise<string> {
    return describeJob(this.client, job);
  }

  waitForReadyNodes(count: number, timeoutMs = 20_000): Promise<void> {
    return waitFor(`${count} ready nodes`, async () => {
      const nodes = await this.client.listNodes();
      return nodes.length === count && nodes.every((n) => n.status === "ready") ? true : undefined;
    }, timeoutMs).then(() => undefined);
  }

  async close(): Promise<void> {
    for (const p of this.started) await p.stop("SIGKILL");
    const nodeIds = this.nodeIdsIn(join(this.dataDir, "workers"));
    // A create the engine was still carrying out for a killed worker can land after the first sweep.
    for (let pass = 0; pass < 3; pass++) {
      const left = (await Promise.all(nodeIds.map((id) => containersWithLabel(LABELS.nodeId, id)))).flat();
      if (left.length === 0) break;
      for (const id of nodeIds) await removeContainersWithLabel(LABELS.nodeId, id);
    }
    await releaseServiceAddresses(this.dataDir);
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private get managerDir(): string {
    return join(this.dataDir, "manager");
  }

  private workerDir(name: string): string {
    return join(this.dataDir, "workers", name);
  }

  /** Every node id kept under dir; found by file name so the layout `serve` uses inside a data dir may change. */
  private nodeIdsIn(dir: string): string[] {
    if (!existsSync(dir)) return [];
    const files = [...new Bun.Glob("**/node-id").scanSync({ cwd: dir, onlyFiles: true })];
    return files.map((f) => readSecretFile(join(dir, f))).filter((id): id is string => id !== null);
  }

  private async startManager(): Promise<void> {
    this.manager = new CubeProcess(["serve", "--role=manager", `--port=${this.port}`, `--bind=${this.bind}`, `--data-dir=${this.managerDir}`, `--heartbeat-ttl=${HEARTBEAT_TTL_MS}ms`]);
    this.started.push(this.manager);
    await this.manager.waitForOutput(/manager listening/);
    this.client.useToken(managerTokens(this.managerDir).management);
  }
}
