import type { ControlPlane } from "../../manager/control-plane.ts";
import type { JobDetail, JobVersion, TaskView } from "../../model/api-types.ts";
import type { TaskSpec } from "../../model/job.ts";
import { isGone } from "../../model/task-state.ts";
import { ApiButton, ApiForm } from "../components/api-action.tsx";
import { StateCounts } from "../components/badges.tsx";
import { TasksTable } from "../components/tasks-table.tsx";
import { TableScroll } from "../components/table-scroll.tsx";
import { formatCores, formatMemory, formatTime } from "../format.ts";
import type { Page } from "../layout.tsx";
import { describeChanges } from "../version-changes.ts";
import type { View } from "../view.ts";

/** Task rows a job page shows per table; a job of thousands of tasks is listed whole by the CLI. */
const TASKS_SHOWN = 500;

function MoreTasks({ job, shown, of }: { job: string; shown: number; of: number }) {
  if (of <= shown) return null;
  return (
    <p class="muted">
      Showing {shown} of {of} tasks; <code>cube tasks --job {job}</code> lists them all.
    </p>
  );
}

/** One job: its tasks per node, its versions, stop, scale and revert. */
export function jobPage(manager: ControlPlane, view: View, name: string): Page {
  const job = manager.getJob(name);
  // The job's present: live tasks and every task of its current version; older, finished ones are history.
  const current = job.tasks.filter((t) => !isGone(t.state) || t.jobVersion === job.version).sort(byLivenessThenNode);
  const earlier = job.tasks.filter((t) => !current.includes(t)).sort(byLivenessThenNode);
  return {
    title: `Job ${job.name}`,
    section: "jobs",
    watch: [`job:${job.name}`],
    live: (
      <>
        <div class="page-head">
          <h1>
            Job {job.name} <span class={`badge job-${job.status}`}>{job.status}</span>
          </h1>
          {job.status === "running" && (
            <div class="actions">
              <ApiButton
                id="stop-job"
                method="DELETE"
                url={`/v1/jobs/${encodeURIComponent(job.name)}`}
                confirm={`Stop job ${job.name}? Its containers are stopped and removed.`}
                done={`Job ${job.name} is stopping`}
                danger
              >
                Stop job
              </ApiButton>
            </div>
          )}
        </div>
        <dl class="facts">
          <dt>Type</dt>
          <dd>{job.type}</dd>
          <dt>Running / desired</dt>
          <dd>
            {job.summary.byState.running ?? 0} / {job.summary.desired}
          </dd>
          <dt>Tasks</dt>
          <dd>
            <StateCounts counts={job.summary.byState} />
          </dd>
          <dt>Datacenters</dt>
          <dd>{job.spec.datacenters.length > 0 ? job.spec.datacenters.join(", ") : "any"}</dd>
        </dl>
        <h2>Tasks</h2>
        <TasksTable tasks={current.slice(0, TASKS_SHOWN)} view={view} label={`Tasks of ${job.name}`} />
        <MoreTasks job={job.name} shown={TASKS_SHOWN} of={current.length} />
        {earlier.length > 0 && (
          <details id="earlier-tasks">
            <summary>Earlier tasks ({earlier.length})</summary>
            <TasksTable tasks={earlier.slice(0, TASKS_SHOWN)} view={view} label={`Earlier tasks of ${job.name}`} />
            <MoreTasks job={job.name} shown={TASKS_SHOWN} of={earlier.length} />
          </details>
        )}
        <h2>Task groups</h2>
        {job.spec.tasks.map((group) => (
          <TaskGroup job={job} group={group} />
        ))}
        <h2>Versions</h2>
        <Versions job={job} versions={manager.jobVersions(job.name)} />
      </>
    ),
  };
}

function TaskGroup({ job, group }: { job: JobDetail; group: TaskSpec }) {
  const scalable = job.status === "running" && job.type !== "system";
  return (
    <section class="card group" aria-label={`Task group ${group.name}`}>
      <h3>{group.name}</h3>
      <dl class="facts">
        <dt>Image</dt>
        <dd>
          <code>{group.image}</code>
        </dd>
        {group.command && (
          <>
            <dt>Command</dt>
            <dd>
              <code>{group.command.join(" ")}</code>
            </dd>
          </>
        )}
        <dt>Count</dt>
        <dd>{job.type === "system" ? "one per node" : group.count}</dd>
        <dt>Resources</dt>
        <dd>
          {formatCores(group.resources.cpu)} cores, {formatMemory(group.resources.memory)} memory, {formatMemory(group.resources.disk)} disk
        </dd>
        {group.ports.length > 0 && (
          <>
            <dt>Ports</dt>
            <dd>{group.ports.map((p) => `${p.name}: ${p.container}${p.host ? ` on host ${p.host}` : ""}`).join(", ")}</dd>
          </>
        )}
      </dl>
      {scalable && (
        <ApiForm id={`scale-${group.name}`} method="POST" url={`/v1/jobs/${encodeURIComponent(job.name)}/scale`} done={`Scaling ${job.name}.${group.name}`}>
          <input type="hidden" name="group" value={group.name} />
          <label>
            Count <input type="number" name="count" min={0} max={1000} required value={group.count} id={`scale-${group.name}-count`} />
          </label>
          <button type="submit">Scale</button>
        </ApiForm>
      )}
    </section>
  );
}

/** The job's stored versions, newest first: what each changed, what its tasks do, and a way back to it. */
function Versions({ job, versions }: { job: JobDetail; versions: JobVersion[] }) {
  return (
    <TableScroll label={`Versions of ${job.name}`}>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Submitted</th>
          <th scope="col">Changes</th>
          <th scope="col">Tasks</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {versions.map((v, i) => (
          <tr>
            <th scope="row" class="num">
              {v.version}
              {v.version === job.version && <span class="muted"> (current)</span>}
            </th>
            <td class="nowrap">
              <time datetime={new Date(v.createdAt).toISOString()}>{formatTime(v.createdAt)}</time>
            </td>
            <td class="message">{v.reason ?? describeChanges(versions[i + 1]?.spec, v.spec).join("; ")}</td>
            <td>
              <StateCounts counts={countStates(job.tasks.filter((t) => t.jobVersion === v.version))} />
            </td>
            <td>
              {v.version !== job.version && (
                <ApiButton
                  id={`revert-${v.version}`}
                  method="POST"
                  url={`/v1/jobs/${encodeURIComponent(job.name)}/revert`}
                  body={{ version: v.version }}
                  confirm={`Revert ${job.name} to version ${v.version}? Its spec is submitted again, as a new version.`}
                  done={`Reverting ${job.name} to version ${v.version}`}
                >
                  Revert to {v.version}
                </ApiButton>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </TableScroll>
  );
}

function countStates(tasks: TaskView[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of tasks) counts[t.state] = (counts[t.state] ?? 0) + 1;
  return counts;
}

/** Running tasks first, then by node name and slot, so a job's spread over nodes reads top to bottom. */
function byLivenessThenNode(a: TaskView, b: TaskView): number {
  return Number(isGone(a.state)) - Number(isGone(b.state)) || (a.nodeName ?? "~").localeCompare(b.nodeName ?? "~") || a.index - b.index;
}
