import { describe, expect, test } from "bun:test";
import { assertTransition, canTransition, InvalidTransitionError, isGone, isTerminal, TASK_STATES } from "../../src/model/task-state.ts";

describe("task state machine", () => {
  test("the happy paths are allowed", () => {
    expect(canTransition("pending", "scheduled")).toBe(true);
    expect(canTransition("scheduled", "running")).toBe(true);
    expect(canTransition("running", "completed")).toBe(true);
    expect(canTransition("running", "failed")).toBe(true);
    expect(canTransition("running", "running")).toBe(true);
    expect(canTransition("running", "lost")).toBe(true);
    expect(canTransition("lost", "stopped")).toBe(true);
  });

  test("final states go nowhere", () => {
    for (const from of ["completed", "failed", "stopped"] as const) {
      for (const to of TASK_STATES) expect(canTransition(from, to)).toBe(false);
      expect(isTerminal(from)).toBe(true);
    }
  });

  test("skipping placement or reviving a lost task is refused", () => {
    expect(canTransition("pending", "running")).toBe(false);
    expect(canTransition("lost", "running")).toBe(false);
    expect(canTransition("scheduled", "pending")).toBe(false);
  });

  test("an invalid transition throws with the task and both states", () => {
    expect(() => assertTransition("t1", "completed", "running")).toThrow(InvalidTransitionError);
    expect(() => assertTransition("t1", "completed", "running")).toThrow("task t1: cannot go from completed to running");
    expect(() => assertTransition("t1", "pending", "scheduled")).not.toThrow();
  });

  test("lost tasks no longer count as live replicas", () => {
    expect(isGone("lost")).toBe(true);
    expect(isGone("running")).toBe(false);
    expect(isTerminal("lost")).toBe(false);
  });
});
