import { defineCommand } from "citty";
import { join, resolve } from "node:path";
import { createLogger } from "../lib/logger.ts";
import { onShutdown } from "../server/shutdown.ts";
import { algorithmArg, defaultNodeName, durationArg, labelArgs, portArg, serverArgs } from "./server-args.ts";

export default defineCommand({
  meta: { name: "serve", description: "Run a manager, or a worker that joins one" },
  args: {
    role: { type: "string", description: "manager | worker", required: true },
    join: { type: "string", description: "worker: manager address HOST[:PORT]" },
    bind: { type: "string", description: "address to listen on", default: "0.0.0.0" },
    advertise: { type: "string", description: "worker: host the manager reaches this worker at (default: first non-loopback IPv4)" },
    "heartbeat-interval": { type: "string", description: "worker: how often to heartbeat", default: "3s" },
    "stop-tasks-on-exit": { type: "boolean", description: "worker: stop its containers on SIGTERM (default: leave them running)", default: false },
    token: { type: "string", description: "API token (env CUBE_TOKEN)" },
    ...serverArgs,
  },
  async run({ args, rawArgs }) {
    const dataDir = resolve(args["data-dir"]);
    if (args.role === "manager") {
      const { startManagerServer } = await import("../server/manager-server.ts");
      const log = createLogger("manager");
      const server = startManagerServer({
        dataDir,
        port: portArg(args.port, 7600),
        bind: args.bind,
        log,
        algorithm: algorithmArg(args.scheduler),
        heartbeatTtlMs: durationArg("heartbeat-ttl", args["heartbeat-ttl"]),
      });
      onShutdown(log, () => server.stop());
      return;
    }
    if (args.role === "worker") {
      if (!args.join) throw new Error("a worker needs --join=HOST[:PORT] of its manager");
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
        token: args.token ?? process.env.CUBE_TOKEN,
        heartbeatIntervalMs: durationArg("heartbeat-interval", args["heartbeat-interval"]),
        stopTasksOnExit: args["stop-tasks-on-exit"],
      });
      onShutdown(log, () => server.stop());
      return;
    }
    throw new Error(`--role must be manager or worker, not "${args.role}"`);
  },
});
