import type { Manager } from "../../manager/manager.ts";
import { NodesTable } from "../components/nodes-table.tsx";
import type { Page } from "../layout.tsx";
import { SAMPLE_PERIOD_MS } from "../../manager/usage-history.ts";
import type { View } from "../view.ts";

export function nodesPage(manager: Manager, view: View): Page {
  return {
    title: "Nodes",
    section: "nodes",
    poll: SAMPLE_PERIOD_MS,
    live: (
      <>
        <h1>Nodes</h1>
        <NodesTable nodes={manager.listNodes()} view={view} />
      </>
    ),
  };
}
