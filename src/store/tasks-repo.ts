import type { Database } from "bun:sqlite";
import { BadRequestError } from "../lib/errors.ts";
import type { Task, TaskEvent } from "../model/task.ts";
import type { DesiredState, TaskState } from "../model/task-state.ts";

interface TaskRow {
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
  };
}

function toParams(t: Task) {
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
  };
}

const COLUMNS = Object.keys(toParams({} as Task));

export interface TaskFilter {
  job?: string;
  nodeId?: string;
  state?: TaskState | TaskState[];
  desired?: DesiredState;
}

export class AmbiguousIdError extends BadRequestError {}

/** Tasks and their event history. */
export class TasksRepo {
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly getStmt;
  private readonly prefixStmt;
  private readonly addEvent;
  private readonly events;

  constructor(private readonly db: Database) {
    this.insertStmt = db.query(`INSERT INTO tasks (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map((c) => `$${c}`).join(", ")})`);
    this.updateStmt = db.query(`UPDATE tasks SET ${COLUMNS.filter((c) => c !== "id").map((c) => `${c} = $${c}`).join(", ")} WHERE id = $id`);
    this.getStmt = db.query<TaskRow, [string]>("SELECT * FROM tasks WHERE id = ?");
    this.prefixStmt = db.query<TaskRow, [string]>("SELECT * FROM tasks WHERE id LIKE ? || '%' ESCAPE '\\' ORDER BY id LIMIT 6");
    this.addEvent = db.query<{ id: number }, [string, number, string, string]>("INSERT INTO task_events (task_id, at, state, message) VALUES (?, ?, ?, ?) RETURNING id");
    this.events = db.query<{ id: number; task_id: string; at: number; state: string; message: string }, [string]>(
      "SELECT * FROM task_events WHERE task_id = ? ORDER BY id",
    );
  }

  insert(task: Task): void {
    this.insertStmt.run(toParams(task));
  }

  update(task: Task): void {
    const result = this.updateStmt.run(toParams(task));
    if (result.changes === 0) throw new Error(`task ${task.id} does not exist`);
  }

  find(id: string): Task | null {
    const row = this.getStmt.get(id);
    return row ? toTask(row) : null;
  }

  findByPrefix(prefix: string): Task | null {
    const rows = this.prefixStmt.all(prefix.replace(/[\\%_]/g, (c) => `\\${c}`));
    if (rows.length > 1) {
      throw new AmbiguousIdError(`task id prefix "${prefix}" matches several tasks (${rows.slice(0, 5).map((r) => r.id.slice(0, 12)).join(", ")}); give more characters`);
    }
    return rows[0] ? toTask(rows[0]) : null;
  }

  /** Filters are built into the SQL so the indexes on job, node and state are used. */
  list(filter: TaskFilter = {}): Task[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.job !== undefined) (where.push("job = ?"), params.push(filter.job));
    if (filter.nodeId !== undefined) (where.push("node_id = ?"), params.push(filter.nodeId));
    if (filter.desired !== undefined) (where.push("desired = ?"), params.push(filter.desired));
    if (filter.state !== undefined) {
      const states = Array.isArray(filter.state) ? filter.state : [filter.state];
      where.push(`state IN (${states.map(() => "?").join(", ")})`);
      params.push(...states);
    }
    const sql = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY job, grp, idx, created_at`;
    return this.db.query<TaskRow, (string | number)[]>(sql).all(...params).map(toTask);
  }

  event(taskId: string, at: number, state: TaskState, message: string): TaskEvent {
    const row = this.addEvent.get(taskId, at, state, message) as { id: number };
    return { id: row.id, taskId, at, state, message };
  }

  history(taskId: string): TaskEvent[] {
    return this.events.all(taskId).map((r) => ({ id: r.id, taskId: r.task_id, at: r.at, state: r.state as TaskState, message: r.message }));
  }
}
