import { expect, test } from "bun:test";
import { assignmentsJson } from "../../src/api/assignments-json.ts";
import type { AssignmentsResponse } from "../../src/model/api-types.ts";
import { makeTask, makeTaskSpec } from "./fixtures.ts";

test("the assignments' JSON is JSON.stringify's, also after a task was replaced by a changed one", () => {
  const spec = makeTaskSpec({ env: { QUOTE: 'say "hi"\n' } });
  const first = makeTask({ message: "placed on a" });
  const response: AssignmentsResponse = { index: "e1.1", assignments: [{ task: first, spec, jobType: "service" }, { task: makeTask({ health: "healthy" }), spec, jobType: "service" }] };
  expect(JSON.parse(assignmentsJson(response))).toEqual(JSON.parse(JSON.stringify(response)));
  expect(assignmentsJson(response)).toBe(JSON.stringify(response));
  const changed = { ...first, state: "running" as const, message: "started" };
  const next: AssignmentsResponse = { index: "e1.2", assignments: [{ task: changed, spec, jobType: "service" }] };
  expect(assignmentsJson(next)).toBe(JSON.stringify(next));
  expect(assignmentsJson({ index: "e1.3", assignments: [] })).toBe('{"index":"e1.3","assignments":[]}');
});
