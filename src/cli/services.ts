import { defineCommand } from "citty";
import type { ServiceView } from "../model/api-types.ts";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { formatTable } from "./table.ts";

/** Endpoints that get traffic (healthy, not stopping) of all, as `2/3`. */
const healthCount = (s: ServiceView) => `${s.endpoints.filter((e) => e.healthy && !e.stopping).length}/${s.endpoints.length}`;

export default defineCommand({
  meta: { name: "services", description: "List services (NAME.service.cube in every container), or one service's endpoints" },
  args: {
    name: { type: "positional", description: "a service name", required: false },
    ...clientArgs,
  },
  async run({ args }) {
    const client = clientFrom(args);
    if (args.name) {
      const service = await client.getService(args.name);
      if (args.json) return printJson(service);
      const rows = service.endpoints.map((e) => [e.name, e.node, `${e.address}:${e.port}`, String(e.containerPort), e.healthy ? "yes" : "no", e.stopping ? "stopping" : "-"]);
      const tags = service.tags.length > 0 ? ` [${service.tags.join(", ")}]` : "";
      process.stdout.write(`service ${service.name}${tags} of job ${service.job}: ${healthCount(service)} endpoints healthy\n`);
      if (rows.length > 0) process.stdout.write(`${formatTable(["task", "node", "address", "container port", "healthy", "state"], rows)}\n`);
      return;
    }
    const services = await client.listServices();
    if (args.json) return printJson(services);
    if (services.length === 0) return void process.stdout.write("no services\n");
    const rows = services.map((s) => [s.name, s.job, s.tags.join(",") || "-", healthCount(s), `${s.name}.service.cube:${[...new Set(s.endpoints.map((e) => e.containerPort))].join(",") || "-"}`]);
    process.stdout.write(`${formatTable(["name", "job", "tags", "healthy", "address in containers"], rows)}\n`);
  },
});
