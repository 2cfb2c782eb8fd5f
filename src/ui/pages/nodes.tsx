import type { ControlPlane } from "../../manager/control-plane.ts";
import { NodesTable } from "../components/nodes-table.tsx";
import { Pager } from "../components/pager.tsx";
import type { Page } from "../layout.tsx";
import { SAMPLE_PERIOD_MS } from "../../manager/usage-history.ts";
import { PAGE_SIZE, paths, type View } from "../view.ts";

export function nodesPage(manager: ControlPlane, view: View): Page {
  const { items, next } = manager.listNodes({ limit: PAGE_SIZE, next: view.next });
  return {
    title: "Nodes",
    section: "nodes",
    poll: SAMPLE_PERIOD_MS,
    live: (
      <>
        <h1>Nodes</h1>
        <NodesTable nodes={items} view={view} />
        <Pager path={paths.nodes} next={next} paged={view.next !== undefined} />
      </>
    ),
  };
}
