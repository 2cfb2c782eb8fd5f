import type { DependencyCondition } from "./job.ts";
import type { FieldIssue } from "./job-validation-error.ts";

/** What the dependency checks read of each task group. */
export interface DependentGroup {
  name: string;
  depends_on?: readonly { task: string; condition: DependencyCondition }[];
  /** The group has a health check (what `healthy` waits for). */
  checked: boolean;
  /** The group's tasks can end as completed (a batch job's, or `restart.condition: on-failure`). */
  completes: boolean;
}

/**
 * The first cycle found among the groups' dependencies, as the names along it with the first repeated
 * at the end, or null when there is none.
 * @example dependencyCycle([{ name: "a", depends_on: [{ task: "b" }] }, { name: "b", depends_on: [{ task: "a" }] }]) // ["a", "b", "a"]
 */
export function dependencyCycle(groups: readonly Pick<DependentGroup, "name" | "depends_on">[]): string[] | null {
  const edges = new Map(groups.map((g) => [g.name, (g.depends_on ?? []).map((d) => d.task)]));
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (name: string): string[] | null => {
    if (onPath.has(name)) return [...path.slice(path.indexOf(name)), name];
    if (done.has(name) || !edges.has(name)) return null;
    path.push(name);
    onPath.add(name);
    for (const next of edges.get(name) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(name);
    done.add(name);
    return null;
  };
  for (const g of groups) {
    const cycle = visit(g.name);
    if (cycle) return cycle;
  }
  return null;
}

/**
 * Each dependency names another group of the job, once; `healthy` needs a group with a health check
 * and `completed` one whose tasks can complete; the dependencies form no cycle (the message names it).
 */
export function dependencyIssues(groups: readonly DependentGroup[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const byName = new Map(groups.map((g) => [g.name, g]));
  groups.forEach((g, i) => {
    const seen = new Set<string>();
    g.depends_on?.forEach((d, j) => {
      const path = `tasks[${i}].depends_on[${j}]`;
      const target = byName.get(d.task);
      if (!target) issues.push({ path: `${path}.task`, message: `no task named "${d.task}" in this job` });
      else if (d.task === g.name) issues.push({ path: `${path}.task`, message: `task ${g.name} cannot depend on itself` });
      else if (seen.has(d.task)) issues.push({ path: `${path}.task`, message: `${d.task} is named twice` });
      else if (d.condition === "healthy" && !target.checked) issues.push({ path: `${path}.condition`, message: `${d.task} has no health check, so it is never healthy: give it one, or wait for started` });
      else if (d.condition === "completed" && !target.completes) {
        issues.push({ path: `${path}.condition`, message: `${d.task} never completes in a service job: give it restart: { condition: on-failure }, or wait for started` });
      }
      seen.add(d.task);
    });
  });
  const cycle = dependencyCycle(groups);
  if (cycle) issues.push({ path: "tasks", message: `depends_on forms a cycle: ${cycle.join(" → ")}` });
  return issues;
}
