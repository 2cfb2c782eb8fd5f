import type { ControlPlane } from "../../manager/control-plane.ts";
import type { NodeView } from "../../model/api-types.ts";
import { isGone } from "../../model/task-state.ts";
import { ApiButton } from "../components/api-action.tsx";
import { NodeStatusBadge } from "../components/badges.tsx";
import { TasksTable } from "../components/tasks-table.tsx";
import { UsageBar } from "../components/usage-bar.tsx";
import { UsageChart } from "../components/usage-chart.tsx";
import { formatAge, formatCores, formatMemory, formatTime } from "../format.ts";
import type { Page } from "../layout.tsx";
import { SAMPLE_PERIOD_MS } from "../../manager/usage-history.ts";
import type { View } from "../view.ts";

/** One node: what it has, what is allocated, its usage over the last minutes, its tasks, drain and eligibility. */
export function nodePage(manager: ControlPlane, view: View, idOrName: string): Page {
  const node = manager.getNode(idOrName);
  const tasks = manager.listTasks({ nodeId: node.id }).items.filter((t) => !isGone(t.state));
  const samples = view.usage(node.id);
  return {
    title: `Node ${node.name}`,
    section: "nodes",
    poll: SAMPLE_PERIOD_MS,
    watch: [`node:${node.id}`],
    live: (
      <>
        <div class="page-head">
          <h1>
            Node {node.name} <NodeStatusBadge node={node} />
          </h1>
          <NodeActions node={node} />
        </div>
        <dl class="facts">
          <dt>Id</dt>
          <dd>
            <code>{node.id}</code>
          </dd>
          <dt>Address</dt>
          <dd>{node.address}</dd>
          <dt>Datacenter</dt>
          <dd>{node.datacenter}</dd>
          <dt>Labels</dt>
          <dd>{Object.entries(node.labels).map(([k, v]) => <code class="label">{`${k}=${v}`}</code>)}</dd>
          <dt>Version</dt>
          <dd>{node.version}</dd>
          <dt>Last heartbeat</dt>
          <dd>
            <time datetime={new Date(node.lastHeartbeat).toISOString()}>{formatTime(node.lastHeartbeat)}</time> ({formatAge(node.lastHeartbeat, view.now)})
          </dd>
        </dl>
        <div class="cards">
          <section class="card" aria-labelledby="allocated-heading">
            <h2 id="allocated-heading">Allocated of capacity</h2>
            <UsageBar label="CPU cores" used={node.allocated.cpu} total={node.capacity.cpu} format={formatCores} />
            <UsageBar label="Memory" used={node.allocated.memory} total={node.capacity.memory} format={formatMemory} />
            <UsageBar label="Disk" used={node.allocated.disk} total={node.capacity.disk} format={formatMemory} />
          </section>
          <section class="card" aria-labelledby="cpu-heading">
            <h2 id="cpu-heading">CPU use</h2>
            <UsageChart label="CPU" samples={samples} value={(s) => s.cpuPercent} max={100} format={(v) => `${v}%`} now={view.now} />
          </section>
          <section class="card" aria-labelledby="memory-heading">
            <h2 id="memory-heading">Memory use</h2>
            <UsageChart label="Memory" samples={samples} value={(s) => s.memoryUsedMb} max={node.capacity.memory} format={formatMemory} now={view.now} />
          </section>
        </div>
        <h2>Tasks on {node.name}</h2>
        <TasksTable tasks={tasks} view={view} label={`Tasks on ${node.name}`} />
      </>
    ),
  };
}

function NodeActions({ node }: { node: NodeView }) {
  const url = `/v1/nodes/${encodeURIComponent(node.id)}`;
  return (
    <div class="actions">
      {node.status === "ready" && (
        <ApiButton
          id="drain-node"
          method="POST"
          url={`${url}/drain`}
          confirm={`Drain ${node.name}? Its tasks stop here and are placed on other nodes.`}
          done={`Node ${node.name} is draining`}
        >
          Drain
        </ApiButton>
      )}
      <ApiButton
        id="node-eligibility"
        method="POST"
        url={`${url}/eligibility`}
        body={{ eligible: !node.eligible }}
        done={`Node ${node.name} is now ${node.eligible ? "ineligible" : "eligible"}`}
      >
        {node.eligible ? "Make ineligible" : "Make eligible"}
      </ApiButton>
    </div>
  );
}
