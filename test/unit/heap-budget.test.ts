import { afterEach, expect, test } from "bun:test";
import { restartWithHeapBudget } from "../../src/cli/heap-budget.ts";
import type { Logger } from "../../src/lib/logger.ts";

const realExecve = process.execve;
const OPTION = "BUN_JSC_forceRAMSize";
let execs: { file: string; args: readonly string[]; env: Record<string, string | undefined> }[] = [];
let warnings: string[] = [];
const log = { warn: (message: string) => warnings.push(message) } as unknown as Logger;

/** Stands in for execve: records the call (never replaces the test runner); `fail` makes it throw as a failed execve does. */
function fakeExecve(fail = false): void {
  process.execve = ((file: string, args: readonly string[], env: Record<string, string | undefined>) => {
    execs.push({ file, args, env });
    if (fail) throw Object.assign(new Error("ENOENT: no such file or directory, execve"), { code: "ENOENT" });
  }) as typeof process.execve;
}

afterEach(() => {
  process.execve = realExecve;
  delete process.env[OPTION];
  execs = [];
  warnings = [];
});

test("the process starts again, in place, with its arguments and the budget in MiB as JavaScriptCore's RAM size", () => {
  fakeExecve();
  restartWithHeapBudget(600, log);
  expect(execs).toHaveLength(1);
  const [exec] = execs;
  expect(exec?.file).toBe(process.execPath);
  expect(exec?.args).toEqual([process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
  expect(exec?.env[OPTION]).toBe(String(600 * 1024 * 1024));
  expect(exec?.env.PATH).toBe(process.env.PATH);
  expect(warnings).toEqual([]);
});

test("a budget of 0, or one set already (by the restart, or by hand), leaves the process as it is", () => {
  fakeExecve();
  restartWithHeapBudget(0, log);
  process.env[OPTION] = "1073741824";
  restartWithHeapBudget(600, log);
  expect(execs).toEqual([]);
});

test("a restart that fails leaves the process running without the budget, with a warning", () => {
  fakeExecve(true);
  restartWithHeapBudget(600, log);
  expect(execs).toHaveLength(1);
  expect(warnings).toEqual(["running without the heap budget: starting again with it failed"]);
});
