import { defineCommand } from "citty";
import { BUILD_DATE, COMMIT, VERSION } from "../lib/version.ts";

export default defineCommand({
  meta: { name: "version", description: "Print Cube's version, the commit it was built from and when" },
  args: { json: { type: "boolean", description: "print JSON", default: false } },
  run({ args }) {
    const build = { version: VERSION, commit: COMMIT, date: BUILD_DATE };
    process.stdout.write(args.json ? `${JSON.stringify(build)}\n` : `cube ${VERSION} (commit ${COMMIT}, built ${BUILD_DATE})\n`);
  },
});
