import { defineCommand } from "citty";
import { VERSION } from "../lib/version.ts";

export default defineCommand({
  meta: { name: "version", description: "Print Cube's version" },
  args: { json: { type: "boolean", description: "print JSON", default: false } },
  run({ args }) {
    process.stdout.write(args.json ? `${JSON.stringify({ version: VERSION })}\n` : `cube ${VERSION}\n`);
  },
});
