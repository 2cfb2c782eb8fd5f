const SIGNALS: Record<number, string> = { 1: "SIGHUP", 2: "SIGINT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM" };

/**
 * How an exit reads to a person.
 * @example describeExit(137, true) // "exit code 137 (OOM killed)"
 */
export function describeExit(exitCode: number, oomKilled: boolean): string {
  if (oomKilled) return `exit code ${exitCode} (OOM killed)`;
  const signal = exitCode > 128 ? exitCode - 128 : 0;
  if (signal > 0 && signal < 32) return `exit code ${exitCode} (signal ${signal}${SIGNALS[signal] ? `, ${SIGNALS[signal]}` : ""})`;
  return `exit code ${exitCode}`;
}
