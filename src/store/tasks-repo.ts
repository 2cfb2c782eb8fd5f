import type { Database, Statement } from "bun:sqlite";
import { BadRequestError } from "../lib/errors.ts";
import { type Task, type TaskEvent, type TaskHealth, TASK_EVENTS_KEPT } from "../model/task.ts";
import type { DesiredState, TaskState } from "../model/task-state.ts";

/** A type alias, not an interface, so it binds as a named-parameter record. */
type TaskRow = {
  id: string;
  job: string;
  job_version: number;
  grp: string;
  idx: number;
  node_id: string | null;
  desired: string;
  state: string;
  resources: string;
  reserved_ports: string;
  host_ports: string;
  container_id: string | null;
  exit_code: number | null;
  message: string;
  restarts: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  health: string | null;
  next_attempt_at: number | null;
};

/** An event as its task's row keeps it (`events`, a JSON array, newest last). */
interface KeptEvent {
  id: number;
  at: number;
  state: TaskState;
  message: string;
}

function toTask(r: TaskRow): Task {
  return {
    id: r.id,
    job: r.job,
    jobVersion: r.job_version,
    group: r.grp,
    index: r.idx,
    nodeId: r.node_id,
    desired: r.desired as DesiredState,
    state: r.state as TaskState,
    resources: JSON.parse(r.resources),
    reservedPorts: JSON.parse(r.reserved_ports),
    hostPorts: JSON.parse(r.host_ports),
    containerId: r.container_id,
    exitCode: r.exit_code,
    message: r.message,
    restarts: r.restarts,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    health: r.health as TaskHealth | null,
    nextAttemptAt: r.next_attempt_at,
  };
}

function toRow(t: Task): TaskRow {
  return {
    id: t.id,
    job: t.job,
    job_version: t.jobVersion,
    grp: t.group,
    idx: t.index,
    node_id: t.nodeId,
    desired: t.desired,
    state: t.state,
    resources: JSON.stringify(t.resources),
    reserved_ports: JSON.stringify(t.reservedPorts),
    host_ports: JSON.stringify(t.hostPorts),
    container_id: t.containerId,
    exit_code: t.exitCode,
    message: t.message,
    restarts: t.restarts,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
    started_at: t.startedAt,
    finished_at: t.finishedAt,
    health: t.health,
    next_attempt_at: t.nextAttemptAt,
  };
}

const COLUMNS: readonly (keyof TaskRow)[] = [
  "id", "job", "job_version", "grp", "idx", "node_id", "desired", "state", "resources", "reserved_ports", "host_ports",
  "container_id", "exit_code", "message", "restarts", "created_at", "updated_at", "started_at", "finished_at", "health", "next_attempt_at",
];
/** A task's fields without its events: a task read is not its history. */
const SELECT_TASK = `SELECT ${COLUMNS.join(", ")} FROM tasks`;

/**
 * What a task keeps for life: an update leaves these columns alone, so it neither checks the job's
 * foreign key nor rewrites the job index (an update writes only the row's page, not an index page too).
 */
const KEPT: ReadonlySet<keyof TaskRow> = new Set(["id", "job", "grp", "idx", "created_at"]);

export interface TaskFilter {
  job?: string;
  nodeId?: string;
  state?: TaskState | TaskState[];
  desired?: DesiredState;
}

type FilterParams = { job?: string; node_id?: string; desired?: string; states?: string };

/** Each filter maps to one indexed condition; states go in as one JSON array so their count does not change the SQL. */
const FILTER_CONDITIONS: Record<keyof FilterParams, string> = {
  job: "job = $job",
  node_id: "node_id = $node_id",
  desired: "desired = $desired",
  states: "state IN (SELECT value FROM json_each($states))",
};

/** A 400 for the API: the user gave too few characters of an id. */
export class AmbiguousIdError extends BadRequestError {}

/** Tasks and their event history. */
export class TasksRepo {
  private readonly insertStmt;
  private readonly deleteStmt;
  private readonly updateStmt;
  private readonly getStmt;
  private readonly prefixStmt;
  private readonly addEvent;
  private readonly events;
  /** One statement per combination of filters (at most 16), prepared on first use. */
  private readonly listStmts = new Map<string, Statement<TaskRow, [FilterParams]>>();

  constructor(private readonly db: Database) {
    this.deleteStmt = db.prepare("DELETE FROM tasks WHERE id = ?");
    this.insertStmt = db.prepare<null, [TaskRow]>(`INSERT INTO tasks (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map((c) => `$${c}`).join(", ")})`);
    this.updateStmt = db.prepare<null, [TaskRow]>(
      `UPDATE tasks SET ${COLUMNS.filter((c) => !KEPT.has(c)).map((c) => `${c} = $${c}`).join(", ")} WHERE id = $id`,
    );
    this.getStmt = db.prepare<TaskRow, [string]>(`${SELECT_TASK} WHERE id = ?`);
    // GLOB, unlike LIKE, is case-sensitive and still uses the primary-key index for a literal prefix.
    this.prefixStmt = db.prepare<TaskRow, [string]>(`${SELECT_TASK} WHERE id GLOB ? ORDER BY id LIMIT 6`);
    // Appended in place, the oldest dropped past TASK_EVENTS_KEPT; its id is one past the newest's.
    this.addEvent = db.prepare<{ id: number }, [string, number, string, string]>(
      `UPDATE tasks SET events = json_insert(
         CASE WHEN json_array_length(events) >= ${TASK_EVENTS_KEPT} THEN json_remove(events, '$[0]') ELSE events END,
         '$[#]', json_object('id', coalesce(json_extract(events, '$[#-1].id'), 0) + 1, 'at', ?2, 'state', ?3, 'message', ?4))
       WHERE id = ?1 RETURNING json_extract(events, '$[#-1].id') AS id`,
    );
    this.events = db.prepare<{ events: string }, [string]>("SELECT events FROM tasks WHERE id = ?");
  }

  /** Forgets a task with its events. */
  delete(id: string): void {
    this.deleteStmt.run(id);
  }

  insert(task: Task): void {
    this.insertStmt.run(toRow(task));
  }

  update(task: Task): void {
    if (this.updateStmt.run(toRow(task)).changes === 0) throw new Error(`task ${task.id} does not exist`);
  }

  find(id: string): Task | null {
    const row = this.getStmt.get(id);
    return row ? toTask(row) : null;
  }

  findByPrefix(prefix: string): Task | null {
    const pattern = `${prefix.replace(/[*?[]/g, (c) => `[${c}]`)}*`;
    const rows = this.prefixStmt.all(pattern);
    if (rows.length > 1) {
      const shown = rows.slice(0, 5).map((r) => r.id);
      throw new AmbiguousIdError(`task id prefix "${prefix}" matches several tasks (${shown.join(", ")}${rows.length > 5 ? ", …" : ""}); give more characters`, { matches: shown });
    }
    return rows[0] ? toTask(rows[0]) : null;
  }

  list(filter: TaskFilter = {}): Task[] {
    const params: FilterParams = {};
    if (filter.job !== undefined) params.job = filter.job;
    if (filter.nodeId !== undefined) params.node_id = filter.nodeId;
    if (filter.desired !== undefined) params.desired = filter.desired;
    if (filter.state !== undefined) params.states = JSON.stringify(Array.isArray(filter.state) ? filter.state : [filter.state]);
    return this.listStatement(Object.keys(params) as (keyof FilterParams)[]).all(params).map(toTask);
  }

  private listStatement(keys: (keyof FilterParams)[]): Statement<TaskRow, [FilterParams]> {
    const shape = keys.join(",");
    let stmt = this.listStmts.get(shape);
    if (!stmt) {
      const where = keys.length ? `WHERE ${keys.map((k) => FILTER_CONDITIONS[k]).join(" AND ")}` : "";
      stmt = this.db.prepare<TaskRow, [FilterParams]>(`${SELECT_TASK} ${where} ORDER BY job, grp, idx, created_at`);
      this.listStmts.set(shape, stmt);
    }
    return stmt;
  }

  event(taskId: string, at: number, state: TaskState, message: string): TaskEvent {
    const row = this.addEvent.get(taskId, at, state, message);
    if (!row) throw new Error(`task ${taskId} does not exist`);
    return { id: row.id, taskId, at, state, message };
  }

  /** Oldest first; none for an unknown task. */
  history(taskId: string): TaskEvent[] {
    const row = this.events.get(taskId);
    if (!row) return [];
    return (JSON.parse(row.events) as KeptEvent[]).map((e) => ({ id: e.id, taskId, at: e.at, state: e.state, message: e.message }));
  }
}
