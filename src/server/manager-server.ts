import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createManagerApp } from "../api/manager-app.ts";
import type { Logger } from "../lib/logger.ts";
import { VERSION } from "../lib/version.ts";
import { type BootstrapTokens, bootstrapTokens } from "../manager/bootstrap-tokens.ts";
import { Manager } from "../manager/manager.ts";
import type { ContainerPolicy } from "../model/container-policy.ts";
import type { Algorithm } from "../scheduler/index.ts";
import { EtcdStore } from "../store/etcd/etcd-store.ts";
import { openStore, type Store } from "../store/index.ts";
import { parseStoreUrl } from "../store/store-url.ts";
import { guessAdvertiseHost } from "./advertise-host.ts";
import { startApiFront } from "./api-front.ts";
import type { TlsKeyPair } from "./http-server.ts";
import { unlockKeyring } from "./keyring-unlock.ts";

export interface ManagerServerOptions {
  dataDir: string;
  /** `--store`: etcd://h1:2379,… keeps the state in etcd, shared by several managers; default: SQLite in the data dir. */
  store?: string;
  /** This manager's name among the managers sharing an etcd store (default "manager"). */
  name?: string;
  /** Host the other managers' clients reach this one at (default: the bind address, or the first non-loopback IPv4). */
  advertise?: string;
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
  /** `--unlock`: the keyring is sealed by a key derived from this passphrase, not by the key file in the data dir. */
  passphrase?: string;
}

export interface ManagerServer {
  url: string;
  manager: Manager;
  /** The management and join tokens, and whether this start made them. */
  tokens: BootstrapTokens;
  stop(): Promise<void>;
}

/** SQLite in the data dir, or the etcd cluster `--store` names (loaded before the manager starts; an unreachable etcd is an error naming it). */
async function openManagerStore(options: ManagerServerOptions): Promise<Store> {
  const url = parseStoreUrl(options.store);
  if (url.kind === "sqlite") return openStore(join(options.dataDir, "cube.db"));
  return EtcdStore.open({ endpoints: url.endpoints, managerName: options.name ?? "manager", log: options.log.child("etcd") });
}

/** Opens the store (SQLite in the data dir, or etcd), starts the control plane and serves its API. */
export async function startManagerServer(options: ManagerServerOptions): Promise<ManagerServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const store = await openManagerStore(options);
  let keyEncryptionKey;
  try {
    keyEncryptionKey = await unlockKeyring(store, { dataDir: options.dataDir, passphrase: options.passphrase });
  } catch (err) {
    store.close();
    throw err;
  }
  const manager = new Manager({ store, name: options.name, log: options.log, algorithm: options.algorithm, heartbeatTtlMs: options.heartbeatTtlMs, gcAfterMs: options.gcAfterMs, keepVersions: options.keepVersions, containerPolicy: options.containerPolicy, maxTasksPerJob: options.maxTasksPerJob, keyEncryptionKey });
  let tokens: BootstrapTokens;
  let http;
  try {
    tokens = bootstrapTokens(manager.tokens, options.dataDir);
    const app = createManagerApp({ manager, log: options.log.child("api"), version: VERSION, workerCa: options.workerCa });
    http = await startApiFront({ app, state: manager.state, tokens: manager.tokens, observeRequest: (labels, seconds) => manager.observeRequest(labels, seconds), log: options.log.child("api"), port: options.port, hostname: options.bind, tls: options.tls });
  } catch (err) {
    store.close();
    throw err;
  }
  const address = `${options.tls ? "https" : "http"}://${options.advertise ?? guessAdvertiseHost(options.bind)}:${http.port}`;
  // The tokens bootstrapped above are stored before anyone is told about them (another manager may start next).
  await store.durable();
  try {
    manager.start(address);
  } catch (err) {
    await http.stop();
    store.close();
    throw err;
  }
  options.log.info("manager listening", { url: http.url, dataDir: options.dataDir, store: store.shared ? options.store : "sqlite" });
  return {
    url: http.url,
    manager,
    tokens,
    async stop() {
      manager.stop();
      await http.stop();
      // A shared store gives up the leadership at once, so another manager leads without waiting out the lease.
      if (store instanceof EtcdStore) await store.shutdown();
      else store.close();
    },
  };
}
