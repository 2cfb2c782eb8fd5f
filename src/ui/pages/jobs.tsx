import type { ControlPlane } from "../../manager/control-plane.ts";
import { JobsTable } from "../components/jobs-table.tsx";
import { Pager } from "../components/pager.tsx";
import type { Page } from "../layout.tsx";
import { PAGE_SIZE, paths, type View } from "../view.ts";

export function jobsPage(manager: ControlPlane, view: View): Page {
  const { items, next } = manager.listJobs({ limit: PAGE_SIZE, next: view.next });
  return {
    title: "Jobs",
    section: "jobs",
    live: (
      <>
        <h1>Jobs</h1>
        <JobsTable jobs={items} view={view} />
        <Pager path={paths.jobs} next={next} paged={view.next !== undefined} />
      </>
    ),
  };
}
