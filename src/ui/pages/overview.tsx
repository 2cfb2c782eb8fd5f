import type { Manager } from "../../manager/manager.ts";
import type { TaskState } from "../../model/task-state.ts";
import { StateCounts } from "../components/badges.tsx";
import { JobsTable } from "../components/jobs-table.tsx";
import { NodesTable } from "../components/nodes-table.tsx";
import { UsageBar } from "../components/usage-bar.tsx";
import { formatCores, formatMemory } from "../format.ts";
import type { Page } from "../layout.tsx";
import { SAMPLE_PERIOD_MS } from "../../manager/usage-history.ts";
import type { View } from "../view.ts";

/** The cluster at a glance: node and job counts, tasks by state, what is allocated of what there is. */
export function overviewPage(manager: Manager, view: View): Page {
  const nodes = manager.listNodes();
  const jobs = manager.listJobs();
  const nodesBy = countBy(nodes.map((n) => n.status));
  const jobsBy = countBy(jobs.map((j) => j.status));
  const tasksBy: Partial<Record<TaskState, number>> = {};
  for (const job of jobs) {
    for (const [state, n] of Object.entries(job.summary.byState)) tasksBy[state as TaskState] = (tasksBy[state as TaskState] ?? 0) + (n ?? 0);
  }
  // A down node's capacity is not there to use; what is still allocated on it is about to move.
  const usable = nodes.filter((n) => n.status !== "down");
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
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
              <StateCounts counts={{ ready: nodesBy.ready, draining: nodesBy.draining, down: nodesBy.down }} />
            </p>
          </section>
          <section class="card" aria-labelledby="jobs-heading">
            <h2 id="jobs-heading">Jobs</h2>
            <p id="jobs-summary" class="stat">
              <StateCounts counts={{ running: jobsBy.running, stopped: jobsBy.stopped }} />
            </p>
          </section>
          <section class="card" aria-labelledby="tasks-heading">
            <h2 id="tasks-heading">Tasks</h2>
            <p id="tasks-summary" class="stat">
              <StateCounts counts={tasksBy} />
            </p>
          </section>
        </div>
        <section class="card resources" aria-labelledby="resources-heading">
          <h2 id="resources-heading">Allocated of capacity</h2>
          <div class="bars">
            <UsageBar label="CPU cores" used={sum(usable.map((n) => n.allocated.cpu))} total={sum(usable.map((n) => n.capacity.cpu))} format={formatCores} />
            <UsageBar label="Memory" used={sum(usable.map((n) => n.allocated.memory))} total={sum(usable.map((n) => n.capacity.memory))} format={formatMemory} />
          </div>
        </section>
        <h2>Nodes</h2>
        <NodesTable nodes={nodes} view={view} />
        <h2>Jobs</h2>
        <JobsTable jobs={jobs} view={view} />
      </>
    ),
  };
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
