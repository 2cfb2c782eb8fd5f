import { defineCommand } from "citty";
import { join, resolve } from "node:path";
import { createLogger } from "../lib/logger.ts";
import { type BootstrapTokens, JOIN_TOKEN_FILE, MANAGEMENT_TOKEN_FILE } from "../manager/bootstrap-tokens.ts";
import { onShutdown } from "../server/shutdown.ts";
import { ALLOW_LIST_HELP, parseAllowList } from "../model/container-policy.ts";
import { DEFAULT_MAX_TASKS_PER_JOB } from "../model/job-limits.ts";
import { DEFAULT_HEAP_BUDGET_MB, restartWithHeapBudget } from "./heap-budget.ts";
import { readPassphrase } from "./passphrase.ts";
import { algorithmArg, countArg, defaultNodeName, durationArg, labelArgs, listenArg, portArg, serverArgs } from "./server-args.ts";
import { tlsCaArg, tlsKeyPairArg, tlsServerArgs } from "./tls-args.ts";

export default defineCommand({
  meta: { name: "serve", description: "Run a manager, or a worker that joins one" },
  args: {
    role: { type: "string", description: "manager | worker", required: true },
    join: { type: "string", description: "worker: manager address HOST[:PORT], or several comma-separated (it moves to the next when one stops answering)" },
    store: { type: "string", description: "manager: where state is kept: etcd://HOST:PORT[,HOST:PORT…] (shared by several managers) or sqlite (default, in the data dir)" },
    bind: { type: "string", description: "address to listen on", default: "0.0.0.0" },
    advertise: { type: "string", description: "host others reach this worker (or manager) at (default: first non-loopback IPv4)" },
    "heartbeat-interval": { type: "string", description: "worker: how often to heartbeat", default: "3s" },
    "gc-after": { type: "string", description: "manager: forget finished tasks and dead jobs after this long", default: "1h" },
    "keep-versions": { type: "string", description: "manager: versions kept per job", default: "10" },
    ingress: { type: "string", description: "worker: run the HTTP ingress on ADDR:PORT (routes by the jobs' ingress: rules)" },
    "stop-tasks-on-exit": { type: "boolean", description: "worker: stop its containers on SIGTERM (default: leave them running)", default: false },
    "docker-host": { type: "string", description: "worker: the Docker engine to run tasks on, unix:///path/docker.sock or tcp://HOST:PORT (env DOCKER_HOST; default /var/run/docker.sock)" },
    "join-token": { type: "string", description: "worker: the manager's join token (env CUBE_JOIN_TOKEN; in the manager's data dir, file join-token)" },
    "tls-ca": { type: "string", description: "CA certificate that the manager's (for a worker) or the workers' (for a manager) must verify against (env CUBE_TLS_CA)" },
    allow: { type: "string", description: `manager: host access tasks may ask for, comma-separated: ${ALLOW_LIST_HELP} (default: none)` },
    "max-tasks-per-job": { type: "string", description: "manager: tasks one job may ask for", default: String(DEFAULT_MAX_TASKS_PER_JOB) },
    "heap-budget": {
      type: "string",
      description: "manager: MiB of RAM its JavaScript heap sizes itself for: it collects garbage sooner as it nears them (not a hard limit; 0: the machine's RAM)",
      default: String(DEFAULT_HEAP_BUDGET_MB),
    },
    unlock: { type: "boolean", description: "manager: seal secrets with a key derived from a passphrase (asked for at start, or read from standard input) instead of the keyring file in the data dir", default: false },
    ...tlsServerArgs,
    ...serverArgs,
  },
  async run({ args, rawArgs }) {
    const dataDir = resolve(args["data-dir"]);
    if (args.role === "manager") {
      const log = createLogger("manager");
      restartWithHeapBudget(countArg("heap-budget", args["heap-budget"], 0), log);
      const { startManagerServer } = await import("../server/manager-server.ts");
      const passphrase = args.unlock ? await readPassphrase("passphrase of the cluster's keyring: ") : undefined;
      const server = await startManagerServer({
        dataDir,
        store: args.store,
        name: args.name ?? defaultNodeName(),
        advertise: args.advertise,
        port: portArg(args.port, 7600),
        bind: args.bind,
        log,
        algorithm: algorithmArg(args.scheduler),
        heartbeatTtlMs: durationArg("heartbeat-ttl", args["heartbeat-ttl"]),
        gcAfterMs: durationArg("gc-after", args["gc-after"]),
        keepVersions: countArg("keep-versions", args["keep-versions"]),
        containerPolicy: parseAllowList((args.allow ?? "").split(",")),
        maxTasksPerJob: countArg("max-tasks-per-job", args["max-tasks-per-job"]),
        tls: tlsKeyPairArg(args["tls-cert"], args["tls-key"]),
        workerCa: tlsCaArg(args["tls-ca"]),
        passphrase,
      });
      printNewTokens(server.tokens, dataDir);
      onShutdown(log, () => server.stop());
      return;
    }
    if (args.role === "worker") {
      if (!args.join) throw new Error("a worker needs --join=HOST[:PORT] of its manager (several: --join=m1:7600,m2:7600)");
      const { startWorkerServer } = await import("../server/worker-server.ts");
      const name = args.name ?? defaultNodeName();
      const log = createLogger(`worker ${name}`);
      const server = await startWorkerServer({
        managerAddress: args.join,
        // Per-name state, so several workers started from one directory stay distinct nodes.
        dataDir: join(dataDir, `worker-${name}`),
        name,
        datacenter: args.datacenter,
        labels: labelArgs(rawArgs),
        port: portArg(args.port, 7601),
        bind: args.bind,
        advertise: args.advertise,
        log,
        joinToken: args["join-token"] ?? process.env.CUBE_JOIN_TOKEN,
        ca: tlsCaArg(args["tls-ca"]),
        tls: tlsKeyPairArg(args["tls-cert"], args["tls-key"]),
        heartbeatIntervalMs: durationArg("heartbeat-interval", args["heartbeat-interval"]),
        dockerHost: args["docker-host"],
        stopTasksOnExit: args["stop-tasks-on-exit"],
        ...(args.ingress ? { ingress: listenArg("ingress", args.ingress) } : {}),
      });
      onShutdown(log, () => server.stop());
      return;
    }
    throw new Error(`--role must be manager or worker, not "${args.role}"`);
  },
});

/** Secrets are printed once, when they are made; after that they are only in the data dir (mode 0600). */
function printNewTokens(tokens: BootstrapTokens, dataDir: string): void {
  const lines: string[] = [];
  if (tokens.management?.created) {
    lines.push(`cube: the management token (admin; shown once, kept in ${join(dataDir, MANAGEMENT_TOKEN_FILE)}):`, `  export CUBE_TOKEN=${tokens.management.secret}`);
  }
  if (tokens.join.created) {
    lines.push(`cube: workers join with (kept in ${join(dataDir, JOIN_TOKEN_FILE)}):`, `  cube serve --role=worker --join=HOST:PORT --join-token=${tokens.join.secret}`);
  }
  if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
}
