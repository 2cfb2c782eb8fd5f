import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../../src/client/api-client.ts";
import { LABELS } from "../../src/driver/driver.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { startDevCluster, type DevCluster } from "../../src/server/dev-cluster.ts";
import { removeContainersWithLabel } from "./docker.ts";
import { releaseServiceAddresses } from "./service-addresses.ts";

export interface LocalCluster {
  /** Carries the cluster's admin token. */
  client: ApiClient;
  cluster: DevCluster;
  nodeIds: string[];
  dataDir: string;
  /** Stops everything and removes every container the cluster's nodes started. */
  close(): Promise<void>;
}

/**
 * A real manager and workers (real HTTP on free ports, real SQLite, real Docker) inside the test
 * process; `ingress`: worker dev-1 runs the HTTP ingress on a free port (its `ingressUrl`).
 */
export async function startLocalCluster(workers = 3, heartbeatTtlMs = 10_000, options: { ingress?: boolean } = {}): Promise<LocalCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), "cube-test-"));
  const cluster = await startDevCluster({
    dataDir,
    port: 0,
    bind: "127.0.0.1",
    workers,
    datacenter: "dc1",
    algorithm: "binpack",
    heartbeatTtlMs,
    ...(options.ingress ? { ingress: { hostname: "127.0.0.1", port: 0 } } : {}),
    log: createLogger("test", "warn"),
  });
  const nodeIds = cluster.workers.map((w) => w.agent.nodeId);
  return {
    client: new ApiClient(cluster.url, { token: cluster.token }),
    cluster,
    nodeIds,
    dataDir,
    async close() {
      await cluster.stop();
      for (const id of nodeIds) await removeContainersWithLabel(LABELS.nodeId, id);
      await releaseServiceAddresses(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A job name no earlier run left containers for. */
export function uniqueJobName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}
