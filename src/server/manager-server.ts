import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createManagerApp } from "../api/manager-app.ts";
import type { Logger } from "../lib/logger.ts";
import { VERSION } from "../lib/version.ts";
import { type BootstrapTokens, bootstrapTokens } from "../manager/bootstrap-tokens.ts";
import { Manager } from "../manager/manager.ts";
import type { ContainerPolicy } from "../model/container-policy.ts";
import type { Algorithm } from "../scheduler/index.ts";
import { openStore } from "../store/index.ts";
import { startHttpServer, type TlsKeyPair } from "./http-server.ts";

export interface ManagerServerOptions {
  dataDir: string;
  port: number;
  bind: string;
  log: Logger;
  algorithm?: Algorithm;
  heartbeatTtlMs?: number;
  gcAfterMs?: number;
  keepVersions?: number;
  containerPolicy?: ContainerPolicy;
  maxTasksPerJob?: number;
  /** Serve HTTPS with this certificate and key. */
  tls?: TlsKeyPair;
  /** PEM of the CA that signed the workers' certificates, when workers serve HTTPS. */
  workerCa?: string;
}

export interface ManagerServer {
  url: string;
  manager: Manager;
  /** The management and join tokens, and whether this start made them. */
  tokens: BootstrapTokens;
  stop(): Promise<void>;
}

/** Opens the store in the data dir, starts the control plane and serves its API. */
export function startManagerServer(options: ManagerServerOptions): ManagerServer {
  mkdirSync(options.dataDir, { recursive: true });
  const store = openStore(join(options.dataDir, "cube.db"));
  const manager = new Manager({ store, log: options.log, algorithm: options.algorithm, heartbeatTtlMs: options.heartbeatTtlMs, gcAfterMs: options.gcAfterMs, keepVersions: options.keepVersions, containerPolicy: options.containerPolicy, maxTasksPerJob: options.maxTasksPerJob });
  let tokens: BootstrapTokens;
  let http;
  try {
    tokens = bootstrapTokens(manager.tokens, options.dataDir);
    http = startHttpServer(createManagerApp({ manager, log: options.log.child("api"), version: VERSION, workerCa: options.workerCa }), { port: options.port, hostname: options.bind, tls: options.tls });
  } catch (err) {
    store.close();
    throw err;
  }
  manager.start();
  options.log.info("manager listening", { url: http.url, dataDir: options.dataDir });
  return {
    url: http.url,
    manager,
    tokens,
    async stop() {
      manager.stop();
      await http.stop();
      store.close();
    },
  };
}
