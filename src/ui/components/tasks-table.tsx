import type { TaskView } from "../../model/api-types.ts";
import { shortId } from "../../lib/ids.ts";
import { isGone } from "../../model/task-state.ts";
import { paths, type View } from "../view.ts";
import { HealthBadge, StateBadge } from "./badges.tsx";
import { TableScroll } from "./table-scroll.tsx";

/** A task's host ports as links on the host the reader already reaches the manager by; a finished task has none bound. */
export function HostPorts({ task, host }: { task: TaskView; host: string }) {
  const entries = isGone(task.state) ? [] : Object.entries(task.hostPorts);
  if (entries.length === 0) return <span class="muted">-</span>;
  return (
    <>
      {entries.map(([name, port]) => (
        <a class="port" href={`http://${host}:${port}/`}>
          {name}:{port}
        </a>
      ))}
    </>
  );
}

/**
 * Tasks with how they are doing and where they run (state first: it is what a phone shows before
 * the table scrolls); a row's `data-task` lets tests find it.
 */
export function TasksTable({ tasks, view, label }: { tasks: TaskView[]; view: View; label: string }) {
  if (tasks.length === 0) return <p class="muted">No task.</p>;
  return (
    <TableScroll label={label}>
      <thead>
        <tr>
          <th scope="col">Task</th>
          <th scope="col">State</th>
          <th scope="col">Node</th>
          <th scope="col">Health</th>
          <th scope="col" class="num">Restarts</th>
          <th scope="col">Host ports</th>
          <th scope="col" class="num">Version</th>
          <th scope="col">Message</th>
        </tr>
      </thead>
      <tbody>
        {tasks.map((task) => (
          <tr data-task={task.id}>
            <th scope="row">
              <a href={paths.task(task.id)}>{task.name}</a> <span class="muted id">{shortId(task.id)}</span>
            </th>
            <td data-field="state">
              <StateBadge state={task.state} />
            </td>
            <td data-field="node">{task.nodeId ? <a href={paths.node(task.nodeId)}>{task.nodeName ?? shortId(task.nodeId)}</a> : <span class="muted">not placed</span>}</td>
            <td>
              <HealthBadge health={task.health} />
            </td>
            <td class="num">{task.restarts}</td>
            <td>
              <HostPorts task={task} host={view.host} />
            </td>
            <td class="num">{task.jobVersion}</td>
            <td class="message">{task.message}</td>
          </tr>
        ))}
      </tbody>
    </TableScroll>
  );
}
