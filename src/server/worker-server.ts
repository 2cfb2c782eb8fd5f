import { createWorkerApp } from "../api/worker-app.ts";
import { DockerDriver } from "../driver/docker/docker-driver.ts";
import type { Logger } from "../lib/logger.ts";
import { VERSION } from "../lib/version.ts";
import type { Resources } from "../model/job.ts";
import { WorkerAgent } from "../worker/agent.ts";
import { guessAdvertiseHost } from "./advertise-host.ts";
import { startHttpServer, type TlsKeyPair } from "./http-server.ts";
import { type IngressServer, startIngressServer } from "./ingress-server.ts";

export interface WorkerServerOptions {
  managerAddress: string;
  dataDir: string;
  name: string;
  datacenter: string;
  labels: Record<string, string>;
  port: number;
  bind: string;
  /** Host the manager should use to reach this worker; guessed from the bind address when absent. */
  advertise?: string;
  log: Logger;
  /** Admits this node the first time; later it re-registers with the credential it was given. */
  joinToken?: string;
  /** PEM of the CA the manager's (and this worker's own peers') certificates are signed by. */
  ca?: string;
  /** Serve this worker's API over HTTPS with this certificate and key. */
  tls?: TlsKeyPair;
  capacity?: Resources;
  /** The engine this worker runs its tasks on (`unix:///…` or `tcp://…`); default DOCKER_HOST, else /var/run/docker.sock. */
  dockerHost?: string;
  heartbeatIntervalMs?: number;
  stopTasksOnExit?: boolean;
  /** Run the HTTP ingress here (`--ingress=ADDR:PORT`). */
  ingress?: { hostname: string; port: number };
}

export interface WorkerServer {
  url: string;
  agent: WorkerAgent;
  /** Where the ingress listens, when this worker runs it. */
  ingressUrl: string | null;
  stop(): Promise<void>;
}

/** Serves the worker's API, then joins the manager and starts running assignments. */
export async function startWorkerServer(options: WorkerServerOptions): Promise<WorkerServer> {
  const driver = new DockerDriver({ host: options.dockerHost });
  let agent: WorkerAgent | undefined;
  const app = createWorkerApp({ driver, images: driver, volumes: driver, log: options.log.child("api"), version: VERSION, agent: () => agent });
  const http = startHttpServer(app, { port: options.port, hostname: options.bind, tls: options.tls });
  const address = `${options.tls ? "https" : "http"}://${options.advertise ?? guessAdvertiseHost(options.bind)}:${http.port}`;
  agent = new WorkerAgent({
    managerAddress: options.managerAddress,
    driver,
    images: driver,
    network: driver,
    dataDir: options.dataDir,
    name: options.name,
    datacenter: options.datacenter,
    labels: options.labels,
    address,
    version: VERSION,
    log: options.log,
    joinToken: options.joinToken,
    ca: options.ca,
    capacity: options.capacity,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
  });
  const started = agent;
  let ingress: IngressServer | null = null;
  try {
    await agent.start();
    if (options.ingress) ingress = startIngressServer(options.ingress, started, options.log.child("ingress"));
  } catch (err) {
    await started.stop();
    await http.stop();
    throw err;
  }
  options.log.info("worker listening", { url: address, node: options.name });
  return {
    url: address,
    agent: started,
    ingressUrl: ingress?.url ?? null,
    async stop() {
      await ingress?.stop();
      await started.stop(options.stopTasksOnExit ?? false);
      await http.stop();
    },
  };
}
