import { defineCommand } from "citty";

/** Values worth offering where a flag or argument takes one of a few words. */
const CHOICES = {
  subCommands: {
    completion: { args: { shell: offer("bash", "zsh") } },
    serve: { options: { role: offer("manager", "worker") } },
    tasks: { options: { state: offer("pending", "scheduled", "running", "restarting", "completed", "failed", "lost", "stopped") } },
  },
};

function offer(...values: string[]) {
  return (complete: (value: string, description: string) => void) => {
    for (const value of values) complete(value, "");
  };
}

/**
 * Answers a shell's completion request: the words typed so far after `--`, the candidates on stdout
 * (tab's protocol). The command tree is read from the CLI's own citty definitions, so it never drifts.
 */
export default defineCommand({
  meta: { name: "complete", description: "Answer a completion request from the script of cube completion", hidden: true },
  async run({ rawArgs }) {
    const [{ default: tab }, { root }] = await Promise.all([import("@bomb.sh/tab/citty"), import("./root.ts")]);
    const completion = await tab(root, CHOICES);
    completion.parse(rawArgs.slice(rawArgs.indexOf("--") + 1));
  },
});
