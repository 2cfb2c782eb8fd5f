import { defineCommand } from "citty";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { formatAge, formatTable } from "./table.ts";

export default defineCommand({
  meta: { name: "managers", description: "List the managers (several share an etcd store), which one leads, and when each was last seen" },
  args: { ...clientArgs },
  async run({ args }) {
    const managers = await clientFrom(args).managers();
    if (args.json) return printJson(managers);
    const now = Date.now();
    const rows = managers.map((m) => [m.name, m.address, m.leader ? "leader" : "follower", formatAge(m.startedAt, now), formatAge(m.lastSeenAt, now)]);
    process.stdout.write(`${formatTable(["name", "address", "role", "started", "last seen"], rows)}\n`);
  },
});
