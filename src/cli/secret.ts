import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { formatAge, formatTable } from "./table.ts";

/** The value from standard input (`-`) or a file, as bytes (nothing trimmed); never from the command line, which shells keep in their history. */
async function readValue(source: string | undefined, file: string | undefined): Promise<Uint8Array<ArrayBuffer>> {
  if ((source === "-") === (file !== undefined)) throw new Error("give the value on standard input (-) or with --from-file FILE; a value on the command line would stay in the shell's history");
  if (file !== undefined) return new Uint8Array(readFileSync(file));
  if (process.stdin.isTTY) process.stderr.write("type the value, then Ctrl-D (a newline typed before it is part of the value):\n");
  return new Uint8Array(await Bun.stdin.arrayBuffer());
}

const put = defineCommand({
  meta: { name: "put", description: "Store a secret's value (admin), exactly as given; a new value rolls every running job that uses the secret onto it" },
  args: {
    name: { type: "positional", description: "secret name", required: true },
    source: { type: "positional", description: "- to read the value from standard input", required: false },
    "from-file": { type: "string", description: "read the value from this file" },
    ...clientArgs,
  },
  async run({ args }) {
    const result = await clientFrom(args).putSecret(args.name, await readValue(args.source, args["from-file"]));
    if (args.json) return printJson(result);
    const { name, version } = result.secret;
    const what = result.created ? "created" : result.changed ? `changed to version ${version}` : `unchanged: the value is version ${version}'s`;
    process.stdout.write(`secret ${name} ${what}\n`);
    if (result.rolled.length > 0) process.stdout.write(`rolling job${result.rolled.length > 1 ? "s" : ""} ${result.rolled.join(", ")} onto it (cube status JOB shows how far)\n`);
  },
});

const list = defineCommand({
  meta: { name: "list", description: "Secrets with their versions and the jobs that use them (never their values)" },
  args: { ...clientArgs },
  async run({ args }) {
    const secrets = await clientFrom(args).listSecrets();
    if (args.json) return printJson(secrets);
    const now = Date.now();
    const rows = secrets.map((s) => [s.name, String(s.version), formatAge(s.updatedAt, now), s.versions.join(","), s.usedBy.length > 0 ? s.usedBy.join(", ") : "-"]);
    process.stdout.write(`${formatTable(["name", "version", "changed", "kept", "used by"], rows)}\n`);
  },
});

const rm = defineCommand({
  meta: { name: "rm", description: "Forget a secret and every version of it (admin); refused while a running job uses it" },
  args: { name: { type: "positional", description: "secret name", required: true }, ...clientArgs },
  async run({ args }) {
    const secret = await clientFrom(args).removeSecret(args.name);
    if (args.json) return printJson(secret);
    process.stdout.write(`secret ${secret.name} removed\n`);
  },
});

export default defineCommand({
  meta: { name: "secret", description: "Store, list and remove secrets: encrypted at rest, given to tasks as files (secrets: in a job file)" },
  subCommands: { put, list, rm },
});
