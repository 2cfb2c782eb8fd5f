import { join } from "node:path";
import type { Logger } from "../lib/logger.ts";
import type { ContainerPolicy } from "../model/container-policy.ts";
import type { Algorithm } from "../scheduler/index.ts";
import { startManagerServer } from "./manager-server.ts";
import { startWorkerServer, type WorkerServer } from "./worker-server.ts";

export interface DevClusterOptions {
  dataDir: string;
  port: number;
  bind: string;
  workers: number;
  datacenter: string;
  algorithm: Algorithm;
  heartbeatTtlMs: number;
  containerPolicy?: ContainerPolicy;
  /** Run the HTTP ingress on the first worker. */
  ingress?: { hostname: string; port: number };
  log: Logger;
}

export interface DevCluster {
  url: string;
  /** An admin token for the cluster: `cube dev` prints it, tests use it. */
  token: string;
  workers: WorkerServer[];
  stop(): Promise<void>;
}

/**
 * A manager and N workers in one process, sharing one Docker engine. Each worker is its own node
 * (own id, name `dev-N`, label `dev.worker=N`, own port) so scheduling behaves as on real machines.
 */
export async function startDevCluster(options: DevClusterOptions): Promise<DevCluster> {
  const manager = await startManagerServer({
    dataDir: join(options.dataDir, "manager"),
    port: options.port,
    bind: options.bind,
    log: options.log.child("manager"),
    algorithm: options.algorithm,
    heartbeatTtlMs: options.heartbeatTtlMs,
    containerPolicy: options.containerPolicy,
  });
  // Zero-config: a data dir reused without its management-token file still gets an admin token.
  const token = manager.tokens.management?.secret ?? manager.manager.tokens.create("admin", "cube dev").secret;
  const workers: WorkerServer[] = [];
  try {
    for (let i = 1; i <= options.workers; i++) {
      workers.push(
        await startWorkerServer({
          managerAddress: manager.url,
          dataDir: join(options.dataDir, `worker-${i}`),
          name: `dev-${i}`,
          datacenter: options.datacenter,
          labels: { "dev.worker": String(i) },
          port: 0,
          bind: options.bind,
          log: options.log.child(`dev-${i}`),
          joinToken: manager.tokens.join.secret,
          stopTasksOnExit: true,
          ...(i === 1 && options.ingress ? { ingress: options.ingress } : {}),
        }),
      );
    }
  } catch (err) {
    await Promise.all(workers.map((w) => w.stop()));
    await manager.stop();
    throw err;
  }
  return {
    url: manager.url,
    token,
    workers,
    async stop() {
      // Workers first, so they can report their tasks stopped to a manager that still listens.
      await Promise.all(workers.map((w) => w.stop()));
      await manager.stop();
    },
  };
}
