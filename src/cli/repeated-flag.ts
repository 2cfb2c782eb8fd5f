/**
 * Every value of a flag given several times (`--node a --node=b`): citty keeps only the last.
 * @example repeatedFlag(["--node", "a", "--node=b"], "node") // ["a", "b"]
 */
export function repeatedFlag(rawArgs: readonly string[], flag: string): string[] {
  const values: string[] = [];
  // What follows `--` is a command's own (cube exec TASK -- CMD), not a flag of ours.
  const end = rawArgs.includes("--") ? rawArgs.indexOf("--") : rawArgs.length;
  for (let i = 0; i < end; i++) {
    const arg = rawArgs[i] as string;
    const value = arg === `--${flag}` ? rawArgs[i + 1] : arg.startsWith(`--${flag}=`) ? arg.slice(flag.length + 3) : undefined;
    if (value !== undefined) values.push(value);
  }
  return values;
}
