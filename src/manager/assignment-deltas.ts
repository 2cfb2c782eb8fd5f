import type { Assignment, AssignmentsResponse } from "../model/api-types.ts";
import type { Task } from "../model/task.ts";
import { isTerminal } from "../model/task-state.ts";
import type { AssignmentWatch } from "./assignment-watch.ts";
import type { TaskTable } from "./task-table.ts";

/**
 * Answers a node's assignment watch with what changed since its last answer instead of its whole
 * list, when the worker asks for that (Nomad's clients fetch only the allocations modified past their
 * index; Kubernetes' watches send events). A node holding thousands of tasks was sent every one of
 * them, spec and all, on each placement there: the work of an answer grew with the node's tasks, not
 * with what changed.
 *
 * The task table names the tasks that came, changed or went on each node since they were last taken
 * (TaskTable.takeChangedOn). Only the last answer per node is remembered: a worker that asks from any
 * other index (it lost an answer, it or the manager restarted, the state was reloaded) gets its whole
 * list. An answer that carries changes always has an index of its own, so one lost on the way is
 * never taken for one the worker holds.
 */
export class AssignmentDeltas {
  private readonly told = new Map<string, { index: string; table: TaskTable }>();

  constructor(private readonly watch: AssignmentWatch) {}

  /**
   * What to tell a node that asked with `since` (its last answer's index): only changes when it asked
   * for them (`delta`) and holds what it was told last; else every task active on it.
   * `assignmentOf` is undefined for a task whose spec is gone (it is not told).
   */
  answer(nodeId: string, since: string, delta: boolean, tasks: TaskTable, assignmentOf: (task: Task) => Assignment | undefined): AssignmentsResponse {
    const last = this.told.get(nodeId);
    const changed = tasks.takeChangedOn(nodeId);
    // Two answers with one index tell the same list: one that takes changes the node was not woken for
    // (its own reports) gets an index past the last one told, be it a delta or a whole list that a
    // request the worker gave up on takes.
    if (changed.size > 0 && this.watch.current(nodeId) === last?.index) this.watch.bump(nodeId);
    const index = this.watch.current(nodeId);
    const whole = !delta || last?.index !== since || last.table !== tasks;
    this.told.set(nodeId, { index, table: tasks });
    if (whole) {
      const assignments: Assignment[] = [];
      for (const task of tasks.activeOn(nodeId)) {
        const assignment = assignmentOf(task);
        if (assignment) assignments.push(assignment);
      }
      return { index, assignments };
    }
    const assignments: Assignment[] = [];
    const removed: string[] = [];
    for (const id of changed) {
      const task = tasks.get(id);
      const assignment = task && task.nodeId === nodeId && !isTerminal(task.state) ? assignmentOf(task) : undefined;
      if (assignment) assignments.push(assignment);
      else removed.push(id);
    }
    return { index, assignments, removed };
  }
}
