import { defineCommand } from "citty";
import { shortId } from "../lib/ids.ts";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";
import { formatAge, formatTable } from "./table.ts";

const ROLES = ["read", "submit", "admin", "join"];

const create = defineCommand({
  meta: { name: "create", description: "Make a token: read (list, watch), submit (also run and stop jobs), admin (also tokens and nodes), join (workers)" },
  args: {
    role: { type: "string", description: ROLES.join(" | "), required: true },
    name: { type: "string", description: "what the token is for (shown by cube token list)", default: "token" },
    ...clientArgs,
  },
  async run({ args }) {
    if (!ROLES.includes(args.role)) throw new Error(`--role must be one of ${ROLES.join(", ")}, not "${args.role}"`);
    const issued = await clientFrom(args).createToken(args.role, args.name);
    if (args.json) return printJson(issued);
    process.stderr.write(`token ${issued.token.id} (${issued.token.role}, "${issued.token.name}") created; its secret is shown only now:\n`);
    process.stdout.write(`${issued.secret}\n`);
  },
});

const list = defineCommand({
  meta: { name: "list", description: "Tokens with their role and last use (never their secrets)" },
  args: { ...clientArgs },
  async run({ args }) {
    const tokens = await clientFrom(args).listTokens();
    if (args.json) return printJson(tokens);
    const now = Date.now();
    const rows = tokens.map((t) => [
      t.id,
      t.name,
      t.role,
      t.nodeId ? shortId(t.nodeId) : "-",
      formatAge(t.createdAt, now),
      formatAge(t.lastUsedAt, now),
      t.revokedAt === null ? "-" : formatAge(t.revokedAt, now),
    ]);
    process.stdout.write(`${formatTable(["id", "name", "role", "node", "created", "used", "revoked"], rows)}\n`);
  },
});

const revoke = defineCommand({
  meta: { name: "revoke", description: "Stop a token working, at once and for good" },
  args: { id: { type: "positional", description: "token id (cube token list)", required: true }, ...clientArgs },
  async run({ args }) {
    const token = await clientFrom(args).revokeToken(args.id);
    if (args.json) return printJson(token);
    process.stdout.write(`token ${token.id} (${token.role}, "${token.name}") revoked\n`);
  },
});

export default defineCommand({
  meta: { name: "token", description: "Create, list and revoke API tokens (needs an admin token)" },
  subCommands: { create, list, revoke },
});
