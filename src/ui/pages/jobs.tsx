import type { Manager } from "../../manager/manager.ts";
import { JobsTable } from "../components/jobs-table.tsx";
import type { Page } from "../layout.tsx";
import type { View } from "../view.ts";

export function jobsPage(manager: Manager, view: View): Page {
  return {
    title: "Jobs",
    section: "jobs",
    live: (
      <>
        <h1>Jobs</h1>
        <JobsTable jobs={manager.listJobs()} view={view} />
      </>
    ),
  };
}
