import type { JobSpec } from "../model/job.ts";
import type { FieldIssue } from "../model/job-validation-error.ts";
import type { ClusterState } from "./cluster-state.ts";

/**
 * The spec with every secret it names pinned to the version `current` gives (the job file names a
 * secret, the stored job the version its tasks get), and an issue for each name `current` does not know.
 * @example pinSecretVersions(spec, (name) => name === "db" ? 3 : undefined).spec.tasks[0].secrets // [{ name: "db", file: "/run/secrets/db", version: 3 }]
 */
export function pinSecretVersions(spec: JobSpec, current: (name: string) => number | undefined): { spec: JobSpec; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const tasks = spec.tasks.map((task, i) => {
    if (!task.secrets) return task;
    const secrets = task.secrets.map((ref, j) => {
      const version = current(ref.name);
      if (version !== undefined) return { ...ref, version };
      issues.push({ path: `tasks[${i}].secrets[${j}].name`, message: `secret ${ref.name} does not exist (an admin makes it with: cube secret put ${ref.name} -)` });
      return ref;
    });
    return { ...task, secrets };
  });
  return { spec: { ...spec, tasks }, issues };
}

export function usesSecret(spec: JobSpec, name: string): boolean {
  return spec.tasks.some((task) => task.secrets?.some((ref) => ref.name === name));
}

/** Running jobs whose current version uses each secret, by secret name; job names in order. */
export function secretUsers(state: ClusterState): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const job of state.jobNames()) {
    const entry = state.job(job);
    if (entry?.job.status !== "running") continue;
    const names = new Set(entry.job.spec.tasks.flatMap((task) => task.secrets?.map((ref) => ref.name) ?? []));
    for (const name of names) users.set(name, [...(users.get(name) ?? []), job]);
  }
  return users;
}

/**
 * The jobs a new value of the secret rolls onto: its running users, except the runs of periodic jobs
 * (a run is one execution of its parent's spec; the parent gets the new version, and its next run with it).
 */
export function jobsToRoll(state: ClusterState, name: string): string[] {
  return (secretUsers(state).get(name) ?? []).filter((job) => state.job(job)?.job.spec.periodicRun === undefined);
}

/** The secret's versions that some stored job version names: they must stay, for its tasks (or a revert to it). */
export function versionsInUse(state: ClusterState, name: string): Set<number> {
  const versions = new Set<number>();
  for (const job of state.jobNames()) {
    for (const { spec } of state.job(job)?.versions.values() ?? []) {
      for (const task of spec.tasks) for (const ref of task.secrets ?? []) if (ref.name === name && ref.version !== undefined) versions.add(ref.version);
    }
  }
  return versions;
}

/** The secrets a spec pins at a version the store no longer keeps (removed since, or that version dropped), by name. */
export function unkeptSecrets(spec: JobSpec, kept: (name: string, version: number) => boolean): string[] {
  const refs = spec.tasks.flatMap((task) => task.secrets ?? []);
  return [...new Set(refs.filter((ref) => ref.version !== undefined && !kept(ref.name, ref.version)).map((ref) => ref.name))];
}
