import type { AssignmentsResponse } from "../model/api-types.ts";

/**
 * The JSON text of objects that are never changed once made (tasks, specs, and the views kept with
 * them, see views.ts), kept with each: a node is told its whole list of assignments on every change,
 * and a list page is asked for again and again, and most of either did not change since.
 */
const texts = new WeakMap<object, string>();

function textOf(value: object): string {
  let text = texts.get(value);
  if (text === undefined) texts.set(value, (text = JSON.stringify(value)));
  return text;
}

/**
 * The JSON of a node's assignments, built from the kept text of each task and spec (a spec's text is
 * shared by its tasks).
 * @example assignmentsJson(response) === JSON.stringify(response) // for the same objects
 */
export function assignmentsJson({ index, assignments, removed }: AssignmentsResponse): string {
  const items = assignments.map((a) => `{"task":${textOf(a.task)},"spec":${textOf(a.spec)},"jobType":${JSON.stringify(a.jobType)}}`);
  const gone = removed === undefined ? "" : `,"removed":${JSON.stringify(removed)}`;
  return `{"index":${JSON.stringify(index)},"assignments":[${items.join(",")}]${gone}}`;
}

/**
 * The JSON of one page of a list (`{"tasks": […], "next": …}`), built from the kept text of each item.
 * @example pageJson("tasks", page.items, page.next) === JSON.stringify({ tasks: page.items, next: page.next })
 */
export function pageJson(list: string, items: readonly object[], next: string | null): string {
  return `{${JSON.stringify(list)}:[${items.map(textOf).join(",")}],"next":${JSON.stringify(next)}}`;
}
