import { expect, test } from "bun:test";
import type { ContainerSummary } from "../../src/driver/driver.ts";
import { type Holder, planSweep } from "../../src/worker/sweep-plan.ts";

const container = (containerId: string, taskId: string, running: boolean): ContainerSummary => ({ containerId, taskId, running });

test("the sweep removes what nobody holds, stops an ended task's running container, and leaves live runners' containers alone", () => {
  const holders: Record<string, Holder> = { live: "run", ended: "keep", kept: "keep" };
  const actions = planSweep(
    [
      container("c-live", "live", true),
      container("c-starting", "live", false),
      container("c-ended", "ended", true),
      container("c-kept", "kept", false),
      container("c-stray", "gone", true),
      container("c-stray-exited", "gone", false),
      container("c-unlabelled", "", true),
    ],
    (taskId) => holders[taskId] ?? "none",
  );
  expect(actions.map((a) => [a.containerId, a.action])).toEqual([
    ["c-ended", "stop"],
    ["c-stray", "remove"],
    ["c-stray-exited", "remove"],
    ["c-unlabelled", "remove"],
  ]);
  expect(actions.find((a) => a.containerId === "c-stray")?.reason).toContain("task gone");
});

test("the holder is asked about the container itself, so a container of a task that is not the task's own is not kept", () => {
  const actions = planSweep([container("old", "t1", false), container("current", "t1", false)], (_task, id) => (id === "current" ? "keep" : "none"));
  expect(actions.map((a) => a.containerId)).toEqual(["old"]);
});
