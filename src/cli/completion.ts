import { defineCommand } from "citty";

const SHELLS = ["bash", "zsh"] as const;

export default defineCommand({
  meta: { name: "completion", description: "Print a shell completion script: source <(cube completion bash), or zsh" },
  args: { shell: { type: "positional", description: SHELLS.join(" | "), required: true } },
  async run({ args }) {
    if (!SHELLS.includes(args.shell as (typeof SHELLS)[number])) throw new Error(`cube completion takes ${SHELLS.join(" or ")}, not "${args.shell}"`);
    // The script asks `cube complete -- WORDS...` (complete.ts) for the candidates at each TAB.
    const { script } = await import("@bomb.sh/tab");
    script(args.shell, "cube", "cube");
  },
});
