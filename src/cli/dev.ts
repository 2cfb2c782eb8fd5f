import { defineCommand } from "citty";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { createLogger } from "../lib/logger.ts";
import { ALLOW_LIST_HELP, parseAllowList } from "../model/container-policy.ts";
import { onShutdown } from "../server/shutdown.ts";
import { algorithmArg, durationArg, listenArg, portArg, serverArgs } from "./server-args.ts";

export default defineCommand({
  meta: { name: "dev", description: "Run a whole local cluster in one process: a manager and N workers" },
  args: {
    workers: { type: "string", description: "how many workers", default: "3" },
    bind: { type: "string", description: "address to listen on", default: "127.0.0.1" },
    ingress: { type: "string", description: "run the HTTP ingress on ADDR:PORT (on worker dev-1)" },
    allow: { type: "string", description: `host access tasks may ask for, comma-separated: ${ALLOW_LIST_HELP} (default: none)` },
    ...serverArgs,
    "data-dir": { type: "string", description: "where state is kept (default: a new temporary dir)" },
  },
  async run({ args }) {
    const workers = Number(args.workers);
    if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new Error(`--workers must be a whole number from 0 to 64, not "${args.workers}"`);
    const { startDevCluster } = await import("../server/dev-cluster.ts");
    const log = createLogger("dev");
    const dataDir = args["data-dir"] ? resolve(args["data-dir"]) : mkdtempSync(`${tmpdir()}/cube-dev-`);
    const cluster = await startDevCluster({
      dataDir,
      port: portArg(args.port, 7600),
      bind: args.bind,
      workers,
      datacenter: args.datacenter,
      algorithm: algorithmArg(args.scheduler),
      heartbeatTtlMs: durationArg("heartbeat-ttl", args["heartbeat-ttl"]),
      containerPolicy: parseAllowList((args.allow ?? "").split(",")),
      ...(args.ingress ? { ingress: listenArg("ingress", args.ingress) } : {}),
      log,
    });
    const ingress = cluster.workers.find((w) => w.ingressUrl !== null)?.ingressUrl;
    process.stdout.write(
      [
        `cube dev: a manager and ${workers} worker(s) are running (data in ${dataDir})`,
        `  manager: ${cluster.url}`,
        // The link signs the browser in (the token moves into a cookie), so the dashboard needs no typing.
        `  ui:      ${cluster.url}/ui?token=${cluster.token}`,
        ...(ingress ? [`  ingress: ${ingress}`] : []),
        "  an admin token was made for you; in another shell:",
        `  export CUBE_ADDR=${cluster.url}`,
        `  export CUBE_TOKEN=${cluster.token}`,
        "",
      ].join("\n"),
    );
    onShutdown(log, () => cluster.stop());
  },
});
