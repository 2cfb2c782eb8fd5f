import type { AssignmentsResponse } from "../model/api-types.ts";

/** A task or spec object is never changed once made (a change makes a new one), so its text can be kept with it. */
const texts = new WeakMap<object, string>();

function textOf(value: object): string {
  let text = texts.get(value);
  if (text === undefined) texts.set(value, (text = JSON.stringify(value)));
  return text;
}

/**
 * The JSON of a node's assignments, built from the kept text of each task and spec: a node is told
 * its whole list on every change, and most of it did not change since it was last told.
 * @example assignmentsJson(response) === JSON.stringify(response) // for the same objects
 */
export function assignmentsJson({ index, assignments }: AssignmentsResponse): string {
  const items = assignments.map((a) => `{"task":${textOf(a.task)},"spec":${textOf(a.spec)},"jobType":${JSON.stringify(a.jobType)}}`);
  return `{"index":${JSON.stringify(index)},"assignments":[${items.join(",")}]}`;
}
