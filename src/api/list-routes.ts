import type { Hono } from "hono";
import { BadRequestError } from "../lib/errors.ts";
import type { JobView, NodeView, TaskView } from "../model/api-types.ts";
import { TASK_STATES, type TaskState } from "../model/task-state.ts";
import type { TaskQuery } from "../manager/control-plane.ts";
import type { Page, PageRequest } from "../manager/paging.ts";
import { pageJson } from "./json-text.ts";
import { pageParams } from "./request.ts";

/** What the list routes read: the manager itself, or the copy of its state the API's front thread keeps. */
export interface ListReads {
  listJobs(page?: PageRequest): Page<JobView>;
  listTasks(query: TaskQuery, page?: PageRequest): Page<TaskView>;
  listNodes(page?: PageRequest): Page<NodeView>;
  getNode(idOrName: string): NodeView;
}

/** The routes `LIST_ROUTES` names, paged (`?limit=&next=`); tasks filtered by job, node and state. */
export const LIST_ROUTES: ReadonlySet<string> = new Set(["/v1/jobs", "/v1/tasks", "/v1/nodes"]);

/** For a body made of kept JSON text (json-text.ts) rather than by `c.json`. */
export const JSON_TYPE = { "content-type": "application/json" };

export function listRoutes(app: Hono, lists: ListReads): void {
  app.get("/v1/jobs", (c) => {
    const { items, next } = lists.listJobs(pageParams(c));
    return c.json({ jobs: items, next });
  });
  app.get("/v1/tasks", (c) => {
    const state = c.req.query("state");
    if (state !== undefined && !TASK_STATES.includes(state as TaskState)) {
      throw new BadRequestError(`query parameter state: "${state}" is not one of ${TASK_STATES.join(", ")}`);
    }
    const job = c.req.query("job");
    const node = c.req.query("node");
    const nodeId = node === undefined ? undefined : lists.getNode(node).id;
    const { items, next } = lists.listTasks({ job, nodeId, state: state as TaskState | undefined }, pageParams(c));
    return c.body(pageJson("tasks", items, next), 200, JSON_TYPE);
  });
  app.get("/v1/nodes", (c) => {
    const { items, next } = lists.listNodes(pageParams(c));
    return c.body(pageJson("nodes", items, next), 200, JSON_TYPE);
  });
}
