import type { ControlPlane } from "../../manager/control-plane.ts";
import { shortId } from "../../lib/ids.ts";
import { HealthBadge, StateBadge } from "../components/badges.tsx";
import { TableScroll } from "../components/table-scroll.tsx";
import { HostPorts } from "../components/tasks-table.tsx";
import { formatTime } from "../format.ts";
import type { Page } from "../layout.tsx";
import { paths, type View } from "../view.ts";

/** One task: where and how it runs, its history of events, and its container's output followed live. */
export function taskPage(manager: ControlPlane, view: View, idOrPrefix: string): Page {
  const task = manager.getTask(idOrPrefix);
  return {
    title: `Task ${task.name}`,
    section: "jobs",
    watch: [`task:${task.id}`],
    live: (
      <>
        <h1>
          Task {task.name} <StateBadge state={task.state} />
        </h1>
        <dl class="facts">
          <dt>Id</dt>
          <dd>
            <code>{task.id}</code>
          </dd>
          <dt>Job</dt>
          <dd>
            <a href={paths.job(task.job)}>{task.job}</a> (version {task.jobVersion}, group {task.group})
          </dd>
          <dt>Node</dt>
          <dd>{task.nodeId ? <a href={paths.node(task.nodeId)}>{task.nodeName ?? shortId(task.nodeId)}</a> : "not placed"}</dd>
          <dt>Desired</dt>
          <dd>{task.desired}</dd>
          <dt>Health</dt>
          <dd>
            <HealthBadge health={task.health} />
          </dd>
          <dt>Restarts</dt>
          <dd>{task.restarts}</dd>
          <dt>Host ports</dt>
          <dd>
            <HostPorts task={task} host={view.host} />
          </dd>
          {task.exitCode !== null && (
            <>
              <dt>Exit code</dt>
              <dd>{task.exitCode}</dd>
            </>
          )}
          <dt>Container</dt>
          <dd>{task.containerId ? <code>{task.containerId.slice(0, 12)}</code> : "none"}</dd>
          <dt>Message</dt>
          <dd>{task.message}</dd>
        </dl>
        <h2>Events</h2>
        <TableScroll label={`Events of ${task.name}`}>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">State</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody id="task-events">
            {task.events.map((event) => (
              <tr>
                <td class="nowrap">
                  <time datetime={new Date(event.at).toISOString()}>{formatTime(event.at)}</time>
                </td>
                <td>
                  <StateBadge state={event.state} />
                </td>
                <td class="message">{event.message}</td>
              </tr>
            ))}
          </tbody>
        </TableScroll>
      </>
    ),
    after: (
      <section aria-labelledby="logs-heading">
        <h2 id="logs-heading">Logs</h2>
        <p id="logs-status" class="muted" role="status">
          Logs need the browser script.
        </p>
        <pre id="logs" class="logs" tabindex={0} aria-labelledby="logs-heading" data-follow={`/v1/tasks/${encodeURIComponent(task.id)}/logs?follow=true&tail=500`} />
      </section>
    ),
  };
}
