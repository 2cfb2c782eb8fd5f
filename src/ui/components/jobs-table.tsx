import type { JobView } from "../../model/api-types.ts";
import { formatAge } from "../format.ts";
import { paths, type View } from "../view.ts";
import { StateCounts } from "./badges.tsx";
import { TableScroll } from "./table-scroll.tsx";

export function JobsTable({ jobs, view }: { jobs: JobView[]; view: View }) {
  if (jobs.length === 0) return <p class="muted">No job yet: submit one with <code>cube run FILE</code>.</p>;
  return (
    <TableScroll label="Jobs">
      <thead>
        <tr>
          <th scope="col">Job</th>
          <th scope="col">Type</th>
          <th scope="col">Status</th>
          <th scope="col" class="num">Version</th>
          <th scope="col">Running / desired</th>
          <th scope="col">Tasks</th>
          <th scope="col">Updated</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((job) => (
          <tr>
            <th scope="row">
              <a href={paths.job(job.name)}>{job.name}</a>
            </th>
            <td>{job.type}</td>
            <td>
              <span class={`badge job-${job.status}`}>{job.status}</span>
            </td>
            <td class="num">{job.version}</td>
            <td>
              {job.summary.byState.running ?? 0} / {job.summary.desired}
            </td>
            <td>
              <StateCounts counts={job.summary.byState} />
            </td>
            <td>{formatAge(job.updatedAt, view.now)}</td>
          </tr>
        ))}
      </tbody>
    </TableScroll>
  );
}
