import { isCompiled } from "../lib/executable.ts";
import type { Logger } from "../lib/logger.ts";

/**
 * JavaScriptCore sizes its garbage-collected heap by the machine's RAM. It lets a heap below a quarter
 * of the RAM grow to twice its live size before the next full collection, one below half to 1.5 times,
 * a larger one by a quarter. On a machine with 24 GB, a manager holding 100,000 tasks (about 300 MB
 * live) thus grows to about 1 GB. Told a smaller RAM (its option forceRAMSize), it collects sooner
 * and stays near what it holds, for a little more CPU. It is not a hard limit: a heap that holds more
 * keeps growing, collecting more often.
 *
 * JavaScriptCore reads its options only when the process starts, so the manager starts itself again,
 * in place (execve: same pid, same arguments), with the option set. A budget set already (by
 * this, or by hand) is left as it is.
 */
const JSC_RAM_OPTION = "BUN_JSC_forceRAMSize";

export const DEFAULT_HEAP_BUDGET_MB = 600;

/**
 * Restarts this process with a heap budget of `mb` MiB unless one is set (or `mb` is 0: the machine's
 * RAM); returns only when it does not. Should the restart fail (the executable was replaced or
 * removed since), this process goes on without the budget, and says so.
 */
export function restartWithHeapBudget(mb: number, log: Logger): void {
  if (mb === 0 || process.env[JSC_RAM_OPTION] !== undefined || typeof process.execve !== "function") return;
  const [, entry = "", ...args] = process.argv;
  // A compiled executable is its own entry point, and carries its runtime flags inside.
  const command = isCompiled(entry) ? [process.execPath, ...args] : [process.execPath, ...process.execArgv, entry, ...args];
  try {
    process.execve(process.execPath, command, { ...process.env, [JSC_RAM_OPTION]: String(mb * 1024 * 1024) });
  } catch (err) {
    log.warn("running without the heap budget: starting again with it failed", { executable: process.execPath, error: (err as Error).message });
  }
}
