import type { ControlPlane } from "../../manager/control-plane.ts";
import { StateCounts } from "../components/badges.tsx";
import { JobsTable } from "../components/jobs-table.tsx";
import { NodesTable } from "../components/nodes-table.tsx";
import { UsageBar } from "../components/usage-bar.tsx";
import { formatCores, formatMemory } from "../format.ts";
import type { Page } from "../layout.tsx";
import { SAMPLE_PERIOD_MS } from "../../manager/usage-history.ts";
import { paths, type View } from "../view.ts";

/** Rows of each list the overview shows; the Nodes and Jobs pages page through the rest. */
const SHOWN = 20;

/** The cluster at a glance: node and job counts, tasks by state, what is allocated of what there is. */
export function overviewPage(manager: ControlPlane, view: View): Page {
  const summary = manager.summary();
  const nodes = manager.listNodes({ limit: SHOWN });
  const jobs = manager.listJobs({ limit: SHOWN });
  return {
    title: "Overview",
    section: "overview",
    // Heartbeat stats change without a cluster event; re-read them as often as they are sampled.
    poll: SAMPLE_PERIOD_MS,
    live: (
      <>
        <h1>Cluster overview</h1>
        <div class="cards counters">
          <section class="card" aria-labelledby="nodes-heading">
            <h2 id="nodes-heading">Nodes</h2>
            <p id="nodes-summary" class="stat">
              <StateCounts counts={summary.nodes} />
            </p>
          </section>
          <section class="card" aria-labelledby="jobs-heading">
            <h2 id="jobs-heading">Jobs</h2>
            <p id="jobs-summary" class="stat">
              <StateCounts counts={summary.jobs} />
            </p>
          </section>
          <section class="card" aria-labelledby="tasks-heading">
            <h2 id="tasks-heading">Tasks</h2>
            <p id="tasks-summary" class="stat">
              <StateCounts counts={summary.tasks} />
            </p>
          </section>
        </div>
        <section class="card resources" aria-labelledby="resources-heading">
          <h2 id="resources-heading">Allocated of capacity</h2>
          <div class="bars">
            <UsageBar label="CPU cores" used={summary.allocated.cpu} total={summary.capacity.cpu} format={formatCores} />
            <UsageBar label="Memory" used={summary.allocated.memory} total={summary.capacity.memory} format={formatMemory} />
          </div>
        </section>
        <h2>Nodes</h2>
        <NodesTable nodes={nodes.items} view={view} />
        <AllOf list={nodes} href={paths.nodes} what="nodes" />
        <h2>Jobs</h2>
        <JobsTable jobs={jobs.items} view={view} />
        <AllOf list={jobs} href={paths.jobs} what="jobs" />
      </>
    ),
  };
}

function AllOf({ list, href, what }: { list: { next: string | null }; href: string; what: string }) {
  if (list.next === null) return null;
  return (
    <p>
      <a href={href}>All {what}</a>
    </p>
  );
}
