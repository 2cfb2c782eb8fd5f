import { defineCommand } from "citty";
import { readFileSync, writeFileSync } from "node:fs";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";

const save = defineCommand({
  meta: { name: "save", description: "Write an online backup of the whole state (jobs, versions, tasks, nodes, tokens) to FILE (admin)" },
  args: { file: { type: "positional", description: "where to write the snapshot", required: true }, ...clientArgs },
  async run({ args }) {
    const text = await clientFrom(args).saveSnapshot();
    writeFileSync(args.file, text, { mode: 0o600 });
    const records = text.split("\n").filter((l) => l !== "").length - 1;
    if (args.json) return printJson({ file: args.file, records });
    process.stdout.write(`saved ${records} records to ${args.file}\n`);
  },
});

const restore = defineCommand({
  meta: {
    name: "restore",
    description: "Replace the whole state with FILE's (admin); a file that is not a snapshot is refused and nothing changes. Restoring a SQLite manager's snapshot into an etcd one moves a cluster to HA",
  },
  args: { file: { type: "positional", description: "a file written by cube snapshot save", required: true }, ...clientArgs },
  async run({ args }) {
    const { restored } = await clientFrom(args).restoreSnapshot(readFileSync(args.file, "utf8"));
    if (args.json) return printJson({ restored });
    process.stdout.write(`restored ${Object.entries(restored).map(([kind, n]) => `${n} ${kind}`).join(", ")} from ${args.file}\n`);
  },
});

export default defineCommand({
  meta: { name: "snapshot", description: "Save or restore the whole cluster state (both stores, SQLite and etcd)" },
  subCommands: { save, restore },
});
