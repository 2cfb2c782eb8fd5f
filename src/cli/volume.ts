import { defineCommand } from "citty";
import type { VolumeView } from "../model/api-types.ts";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { repeatedFlag } from "./repeated-flag.ts";
import { formatAge, formatTable } from "./table.ts";

/** Bytes as people read them: 0 B, 12.5 KiB, 3.1 MiB, 2.0 GiB. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const nodeArg = { node: { type: "string", description: "only this node (repeatable; default: every node)" } } as const;

export default defineCommand({
  meta: { name: "volume", description: "Named volumes of jobs (task volumes: / compose volumes), on the nodes that hold them" },
  subCommands: {
    list: defineCommand({
      meta: { name: "list", description: "List the volumes on every node: job, size, and the tasks using each" },
      args: { job: { type: "string", description: "only this job's" }, ...nodeArg, ...clientArgs },
      async run({ args, rawArgs }) {
        const list = await clientFrom(args).listVolumes({ ...(args.job ? { job: args.job } : {}), nodes: repeatedFlag(rawArgs, "node") });
        if (args.json) return printJson(list);
        const rows = list.volumes.map((v: VolumeView) => [v.job, v.name, v.node, formatBytes(v.sizeBytes), v.createdAt ? formatAge(v.createdAt) : "-", v.usedBy.join(", ") || "-"]);
        process.stdout.write(rows.length === 0 ? "no volumes\n" : `${formatTable(["job", "volume", "node", "size", "age", "used by"], rows)}\n`);
        for (const e of list.errors) process.stderr.write(`node ${e.node} was not asked: ${e.error}\n`);
        if (list.errors.length > 0) process.exitCode = 1;
      },
    }),
    rm: defineCommand({
      meta: { name: "rm", description: "Remove a job's volume and its data from the nodes that hold it (refused while a task uses it)" },
      args: {
        job: { type: "positional", description: "job name", required: true },
        name: { type: "positional", description: "volume name", required: true },
        ...nodeArg,
        ...clientArgs,
      },
      async run({ args, rawArgs }) {
        const result = await clientFrom(args).removeVolume(args.job, args.name, repeatedFlag(rawArgs, "node"));
        if (args.json) return printJson(result);
        for (const r of result.removed) process.stdout.write(`volume ${args.name} of job ${args.job} removed from node ${r.node}\n`);
      },
    }),
  },
});
