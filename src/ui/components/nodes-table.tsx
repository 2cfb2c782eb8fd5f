import type { NodeView } from "../../model/api-types.ts";
import { formatAge, formatCores, formatMemory } from "../format.ts";
import { paths, type View } from "../view.ts";
import { NodeStatusBadge } from "./badges.tsx";
import { TableScroll } from "./table-scroll.tsx";
import { UsageChart } from "./usage-chart.tsx";

/** Every node with its capacity, what is allocated on it and its live usage with a sparkline. */
export function NodesTable({ nodes, view }: { nodes: NodeView[]; view: View }) {
  if (nodes.length === 0) return <p class="muted">No node has joined yet.</p>;
  return (
    <TableScroll label="Nodes">
      <thead>
        <tr>
          <th scope="col">Node</th>
          <th scope="col">Status</th>
          <th scope="col">Datacenter</th>
          <th scope="col" class="num">Tasks</th>
          <th scope="col">CPU allocated</th>
          <th scope="col">Memory allocated</th>
          <th scope="col">CPU use</th>
          <th scope="col">Memory use</th>
          <th scope="col">Heartbeat</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map((node) => {
          const samples = view.usage(node.id);
          return (
            <tr>
              <th scope="row">
                <a href={paths.node(node.id)}>{node.name}</a>
              </th>
              <td>
                <NodeStatusBadge node={node} />
              </td>
              <td>{node.datacenter}</td>
              <td class="num">{node.taskCount}</td>
              <td>
                {formatCores(node.allocated.cpu)} / {formatCores(node.capacity.cpu)} cores
              </td>
              <td>
                {formatMemory(node.allocated.memory)} / {formatMemory(node.capacity.memory)}
              </td>
              <td class="spark">
                <span>{node.stats ? `${node.stats.cpuPercent}%` : "-"}</span>
                <UsageChart label={`CPU of ${node.name}`} samples={samples} value={(s) => s.cpuPercent} max={100} format={(v) => `${v}%`} now={view.now} small />
              </td>
              <td class="spark">
                <span>{node.stats ? formatMemory(node.stats.memoryUsedMb) : "-"}</span>
                <UsageChart label={`Memory of ${node.name}`} samples={samples} value={(s) => s.memoryUsedMb} max={node.capacity.memory} format={formatMemory} now={view.now} small />
              </td>
              <td>{formatAge(node.lastHeartbeat, view.now)}</td>
            </tr>
          );
        })}
      </tbody>
    </TableScroll>
  );
}
