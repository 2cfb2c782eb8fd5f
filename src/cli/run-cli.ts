import { runCommand, runMain } from "citty";
import { root } from "./root.ts";

/**
 * Runs the CLI: help is citty's; any error prints one line naming what went wrong (no stack trace)
 * and exits 1.
 */
export async function runCli(argv: string[]): Promise<void> {
  if (argv.length === 0 || argv.some((a) => a === "--help" || a === "-h")) return runMain(root, { rawArgs: argv });
  try {
    await runCommand(root, { rawArgs: argv });
  } catch (err) {
    const e = err as Error & { code?: string };
    const usage = e.name === "CLIError" || e.code?.startsWith("E_") ? " (see cube --help)" : "";
    fail(`${e.message}${usage}`);
  }
}

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}
