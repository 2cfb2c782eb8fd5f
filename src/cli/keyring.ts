import { defineCommand } from "citty";
import { clientArgs, clientFrom, printJson } from "./client-args.ts";

const rotate = defineCommand({
  meta: { name: "rotate", description: "Make a new data key and seal every kept secret version with it (admin); the old key is dropped" },
  args: { ...clientArgs },
  async run({ args }) {
    const rotation = await clientFrom(args).rotateKeyring();
    if (args.json) return printJson(rotation);
    process.stdout.write(`keyring rotated: data key ${rotation.activeKey} seals ${rotation.resealed} secret version${rotation.resealed === 1 ? "" : "s"} now\n`);
  },
});

export default defineCommand({
  meta: { name: "keyring", description: "The data keys that seal the secrets" },
  subCommands: { rotate },
});
