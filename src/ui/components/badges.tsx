import type { NodeView } from "../../model/api-types.ts";
import type { TaskHealth } from "../../model/task.ts";

/** A task state as a word with a color: the word carries the meaning, the color only helps scanning. */
export function StateBadge({ state }: { state: string }) {
  return <span class={`badge state-${state}`}>{state}</span>;
}

export function HealthBadge({ health }: { health: TaskHealth | null }) {
  return health ? <span class={`badge health-${health}`}>{health}</span> : <span class="muted">no check</span>;
}

export function NodeStatusBadge({ node }: { node: Pick<NodeView, "status" | "eligible"> }) {
  return (
    <>
      <span class={`badge node-${node.status}`}>{node.status}</span>
      {node.eligible ? null : <span class="badge node-ineligible">ineligible</span>}
    </>
  );
}

/** Counts by state, in the order the states are listed: `3 running · 1 pending`. */
export function StateCounts({ counts }: { counts: Partial<Record<string, number>> }) {
  const entries = Object.entries(counts).filter(([, n]) => (n ?? 0) > 0);
  if (entries.length === 0) return <span class="muted">none</span>;
  return (
    <span class="counts">
      {entries.map(([state, n]) => (
        <span class={`badge state-${state}`}>
          {n} {state}
        </span>
      ))}
    </span>
  );
}
