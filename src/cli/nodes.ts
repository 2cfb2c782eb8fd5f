import { defineCommand } from "citty";
import { shortId } from "../lib/ids.ts";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { formatAge, formatTable } from "./table.ts";

export default defineCommand({
  meta: { name: "nodes", description: "List worker nodes with capacity, allocation and live usage" },
  args: { ...clientArgs },
  async run({ args }) {
    const nodes = await clientFrom(args).listNodes();
    if (args.json) return printJson(nodes);
    if (nodes.length === 0) return void process.stdout.write("no nodes\n");
    const now = Date.now();
    const rows = nodes.map((n) => [
      shortId(n.id),
      n.name,
      n.status + (n.eligible ? "" : " (ineligible)"),
      n.datacenter,
      n.address,
      String(n.taskCount),
      `${n.allocated.cpu}/${n.capacity.cpu}`,
      `${n.allocated.memory}/${n.capacity.memory}`,
      `${n.allocated.disk}/${n.capacity.disk}`,
      n.stats ? `${n.stats.cpuPercent}% cpu, ${n.stats.memoryUsedMb} MiB` : "-",
      formatAge(n.lastHeartbeat, now),
    ]);
    process.stdout.write(`${formatTable(["id", "name", "status", "dc", "address", "tasks", "cpu (cores)", "memory (MiB)", "disk (MiB)", "usage", "heartbeat"], rows)}\n`);
  },
});
