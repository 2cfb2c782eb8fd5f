import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createManagerApp } from "../api/manager-app.ts";
import type { Logger } from "../lib/logger.ts";
import { VERSION } from "../lib/version.ts";
import { Manager } from "../manager/manager.ts";
import type { Algorithm } from "../scheduler/index.ts";
import { openStore } from "../store/index.ts";
import { startHttpServer } from "./http-server.ts";

export interface ManagerServerOptions {
  dataDir: string;
  port: number;
  bind: string;
  log: Logger;
  algorithm?: Algorithm;
  heartbeatTtlMs?: number;
}

export interface ManagerServer {
  url: string;
  manager: Manager;
  stop(): Promise<void>;
}

/** Opens the store in the data dir, starts the control plane and serves its API. */
export function startManagerServer(options: ManagerServerOptions): ManagerServer {
  mkdirSync(options.dataDir, { recursive: true });
  const store = openStore(join(options.dataDir, "cube.db"));
  const manager = new Manager({ store, log: options.log, algorithm: options.algorithm, heartbeatTtlMs: options.heartbeatTtlMs });
  let http;
  try {
    http = startHttpServer(createManagerApp({ manager, log: options.log.child("api"), version: VERSION }), { port: options.port, hostname: options.bind });
  } catch (err) {
    store.close();
    throw err;
  }
  manager.start();
  options.log.info("manager listening", { url: http.url, dataDir: options.dataDir });
  return {
    url: http.url,
    manager,
    async stop() {
      manager.stop();
      await http.stop();
      store.close();
    },
  };
}
