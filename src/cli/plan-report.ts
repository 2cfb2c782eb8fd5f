import type { PlannedGroup, PlannedTask, PlanRejection, PlanResult, PlanScore } from "../model/api-types.ts";

/** How many other candidates, and node names per rejection reason, a task shows before "+N more". */
const SHOWN = 5;

const oneDecimal = (n: number) => String(Math.round(n * 10) / 10);

/** `dev-2 (score 83.5: binpack 67, job-anti-affinity 100)` */
export function describeScore(score: PlanScore): string {
  const parts = Object.entries(score.byPlugin).map(([plugin, value]) => `${plugin} ${Math.round(value)}`);
  return `${score.nodeName} (score ${oneDecimal(score.total)}${parts.length > 0 ? `: ${parts.join(", ")}` : ""})`;
}

function names(list: string[]): string {
  return list.length <= SHOWN ? list.join(", ") : `${list.slice(0, SHOWN).join(", ")} +${list.length - SHOWN} more`;
}

/** Rejected nodes grouped by reason, most common first: `2 nodes: memory exhausted… (dev-4, dev-5)`. */
export function groupRejections(rejected: PlanRejection[]): string[] {
  const byReason = Map.groupBy(rejected, (r) => r.reason);
  return [...byReason.entries()]
    .sort(([a, x], [b, y]) => y.length - x.length || (a < b ? -1 : 1))
    .map(([reason, nodes]) => `${nodes.length} node${nodes.length === 1 ? "" : "s"}: ${reason} (${names(nodes.map((n) => n.nodeName))})`);
}

function taskLines(task: PlannedTask): string[] {
  if (!task.node || !task.score) {
    const lines = [`${task.name} ✗ ${task.failure ?? "cannot be placed"}`];
    if (task.detailed) lines.push(...groupRejections(task.rejected).map((l) => `    rejected ${l}`));
    return lines;
  }
  const lines = [`${task.name} → ${describeScore(task.score)}`];
  if (!task.detailed) return lines;
  const others = task.candidates.filter((c) => c.nodeId !== task.node?.id);
  if (others.length > 0) {
    const shown = others.slice(0, SHOWN).map((c) => `${c.nodeName} ${oneDecimal(c.total)}`);
    lines.push(`    other candidates: ${shown.join(", ")}${others.length > SHOWN ? ` +${others.length - SHOWN} more` : ""}`);
  }
  lines.push(...groupRejections(task.rejected).map((l) => `    rejected ${l}`));
  return lines;
}

function groupLines(job: string, group: PlannedGroup): string[] {
  const lines = [`${job}.${group.name}: ${group.placed}/${group.count} placed`];
  const detailed = group.tasks.filter((t) => t.detailed);
  for (const task of detailed) lines.push(...taskLines(task).map((l) => `  ${l}`));
  const rest = group.tasks.filter((t) => !t.detailed);
  const placed = rest.filter((t) => t.node);
  if (placed.length > 0) {
    const nodes = new Set(placed.map((t) => t.node?.id)).size;
    lines.push(`  … ${placed.length} more placed on ${nodes} node${nodes === 1 ? "" : "s"} (--json lists each)`);
  }
  const failed = Map.groupBy(rest.filter((t) => !t.node), (t) => t.failure ?? "");
  for (const [failure, tasks] of failed) lines.push(`  … ${tasks.length} more ✗ ${failure}`);
  if (group.rejected && group.rejected.length > 0) lines.push(...groupRejections(group.rejected).map((l) => `  not run on ${l}`));
  return lines;
}

/**
 * `cube plan`'s text: per task its node and score by plugin, the other candidates, and rejected nodes
 * grouped by reason. Pure, so it is tested without a cluster.
 */
export function formatPlan(plan: PlanResult): string {
  const header = `job ${plan.job}: ${plan.algorithm} over ${plan.nodes} node${plan.nodes === 1 ? "" : "s"}${
    plan.existingVersion !== null ? ` (version ${plan.existingVersion} exists: planned as if placed afresh)` : ""
  }`;
  const total = plan.groups.reduce((n, g) => n + g.count, 0);
  const placed = plan.groups.reduce((n, g) => n + g.placed, 0);
  const footer = placed === total ? `all ${total} task(s) can be placed; nothing was changed` : `${total - placed} of ${total} task(s) cannot be placed; nothing was changed`;
  return [header, ...plan.groups.flatMap((g) => groupLines(plan.job, g)), footer].join("\n");
}
