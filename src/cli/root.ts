import { defineCommand } from "citty";
import { VERSION } from "../lib/version.ts";

/** Subcommands load lazily, so `cube version` or `cube nodes` never loads Docker, SQLite or the server. */
export const root = defineCommand({
  meta: { name: "cube", version: VERSION, description: "A container orchestrator in one binary" },
  subCommands: {
    serve: () => import("./serve.ts").then((m) => m.default),
    dev: () => import("./dev.ts").then((m) => m.default),
    run: () => import("./run.ts").then((m) => m.default),
    plan: () => import("./plan.ts").then((m) => m.default),
    stop: () => import("./stop.ts").then((m) => m.default),
    status: () => import("./status.ts").then((m) => m.default),
    tasks: () => import("./tasks.ts").then((m) => m.default),
    nodes: () => import("./nodes.ts").then((m) => m.default),
    node: () => import("./node.ts").then((m) => m.default),
    scale: () => import("./scale.ts").then((m) => m.default),
    logs: () => import("./logs.ts").then((m) => m.default),
    exec: () => import("./exec.ts").then((m) => m.default),
    task: () => import("./task.ts").then((m) => m.default),
    job: () => import("./job.ts").then((m) => m.default),
    events: () => import("./events.ts").then((m) => m.default),
    image: () => import("./image.ts").then((m) => m.default),
    services: () => import("./services.ts").then((m) => m.default),
    volume: () => import("./volume.ts").then((m) => m.default),
    token: () => import("./token.ts").then((m) => m.default),
    secret: () => import("./secret.ts").then((m) => m.default),
    keyring: () => import("./keyring.ts").then((m) => m.default),
    managers: () => import("./managers.ts").then((m) => m.default),
    snapshot: () => import("./snapshot.ts").then((m) => m.default),
    tls: () => import("./tls.ts").then((m) => m.default),
    version: () => import("./version.ts").then((m) => m.default),
    completion: () => import("./completion.ts").then((m) => m.default),
    complete: () => import("./complete.ts").then((m) => m.default),
  },
});
