import type { JobSpec, TaskSpec } from "../model/job.ts";

/**
 * What a job version changed from the one before, in a few words per task group, so the history on
 * the job page says why each version exists: `http: count 3 → 4`, `http: image a → b`, `http: env`.
 */
export function describeChanges(previous: JobSpec | undefined, spec: JobSpec): string[] {
  if (!previous) return ["first version"];
  const changes: string[] = [];
  for (const group of spec.tasks) {
    const before = previous.tasks.find((g) => g.name === group.name);
    if (!before) {
      changes.push(`${group.name}: added`);
      continue;
    }
    const fields = changedFields(before, group);
    if (fields.length > 0) changes.push(`${group.name}: ${fields.join(", ")}`);
  }
  for (const group of previous.tasks) if (!spec.tasks.some((g) => g.name === group.name)) changes.push(`${group.name}: removed`);
  for (const field of ["type", "datacenters", "constraints", "scheduler", "spread"] as const) {
    if (!sameValue(previous[field], spec[field])) changes.push(field);
  }
  return changes.length > 0 ? changes : ["no change (submitted again)"];
}

/** Count and image with their values, since those are what people change most; any other field by name. */
function changedFields(before: TaskSpec, after: TaskSpec): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)] as (keyof TaskSpec)[]);
  const fields: string[] = [];
  for (const key of keys) {
    if (sameValue(before[key], after[key])) continue;
    fields.push(key === "count" || key === "image" ? `${key} ${String(before[key])} → ${String(after[key])}` : key);
  }
  return fields;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
