import type { Database } from "bun:sqlite";
import type { JobVersion } from "../model/api-types.ts";
import type { Job, JobSpec } from "../model/job.ts";
import { canonicalJson } from "./canonical-json.ts";

interface JobRow {
  name: string;
  version: number;
  status: string;
  spec: string;
  created_at: number;
  updated_at: number;
}

interface VersionRow {
  job: string;
  version: number;
  spec: string;
  created_at: number;
  rollout_failure: string | null;
  auto_revert: number;
  reason: string | null;
}

function toVersion(r: VersionRow): JobVersion {
  return {
    version: r.version,
    spec: JSON.parse(r.spec) as JobSpec,
    createdAt: r.created_at,
    rolloutFailure: r.rollout_failure,
    autoRevert: r.auto_revert === 1,
    ...(r.reason !== null ? { reason: r.reason } : {}),
  };
}

function toJob(row: JobRow): Job {
  return { spec: JSON.parse(row.spec) as JobSpec, version: row.version, status: row.status as Job["status"], createdAt: row.created_at, updatedAt: row.updated_at };
}


/** Jobs and their immutable version history. */
export class JobsRepo {
  private readonly get;
  private readonly list;
  private readonly insert;
  private readonly update;
  private readonly insertVersion;
  private readonly versions;
  private readonly allVersions;
  private readonly setFailure;
  private readonly setStatus;
  private readonly remove;
  private readonly removeVersion;

  constructor(db: Database) {
    this.get = db.prepare<JobRow, [string]>("SELECT * FROM jobs WHERE name = ?");
    this.list = db.prepare<JobRow, []>("SELECT * FROM jobs ORDER BY name");
    this.insert = db.prepare("INSERT INTO jobs (name, version, status, spec, created_at, updated_at) VALUES ($name, 1, 'running', $spec, $now, $now)");
    this.update = db.prepare("UPDATE jobs SET version = $version, status = 'running', spec = $spec, updated_at = $now WHERE name = $name");
    this.insertVersion = db.prepare("INSERT INTO job_versions (job, version, spec, created_at, auto_revert, reason) VALUES (?, ?, ?, ?, ?, ?)");
    this.versions = db.prepare<VersionRow, [string]>("SELECT * FROM job_versions WHERE job = ? ORDER BY version DESC");
    this.allVersions = db.prepare<VersionRow, []>("SELECT * FROM job_versions ORDER BY job, version DESC");
    this.setFailure = db.prepare("UPDATE job_versions SET rollout_failure = ? WHERE job = ? AND version = ?");
    this.setStatus = db.prepare("UPDATE jobs SET status = ?, updated_at = ? WHERE name = ?");
    this.remove = db.prepare("DELETE FROM jobs WHERE name = ?");
    this.removeVersion = db.prepare("DELETE FROM job_versions WHERE job = ? AND version = ?");
  }

  /** Reads the current version, then writes: call inside a transaction. */
  put(spec: JobSpec, now: number, autoRevert: boolean, reason: string | null): { job: Job; created: boolean; changed: boolean } {
    const json = canonicalJson(spec);
    const row = this.get.get(spec.name);
    if (!row) {
      this.insert.run({ name: spec.name, spec: json, now });
      this.insertVersion.run(spec.name, 1, json, now, autoRevert ? 1 : 0, reason);
      return { job: { spec, version: 1, status: "running", createdAt: now, updatedAt: now }, created: true, changed: true };
    }
    const changed = row.spec !== json;
    const version = changed ? row.version + 1 : row.version;
    const write = changed || row.status !== "running";
    if (changed) this.insertVersion.run(spec.name, version, json, now, autoRevert ? 1 : 0, reason);
    if (write) this.update.run({ name: spec.name, version, spec: json, now });
    return { job: { spec, version, status: "running", createdAt: row.created_at, updatedAt: write ? now : row.updated_at }, created: false, changed };
  }

  /** Writes a job and its versions as they were (a snapshot restored). */
  restore(job: Job, versions: readonly JobVersion[]): void {
    this.insert.run({ name: job.spec.name, spec: canonicalJson(job.spec), now: job.createdAt });
    this.update.run({ name: job.spec.name, version: job.version, spec: canonicalJson(job.spec), now: job.updatedAt });
    if (job.status !== "running") this.setStatus.run(job.status, job.updatedAt, job.spec.name);
    for (const v of versions) {
      this.insertVersion.run(job.spec.name, v.version, canonicalJson(v.spec), v.createdAt, v.autoRevert ? 1 : 0, v.reason ?? null);
      if (v.rolloutFailure !== null) this.setFailure.run(v.rolloutFailure, job.spec.name, v.version);
    }
  }

  find(name: string): Job | null {
    const row = this.get.get(name);
    return row ? toJob(row) : null;
  }

  all(): Job[] {
    return this.list.all().map(toJob);
  }

  history(name: string): JobVersion[] {
    return this.versions.all(name).map(toVersion);
  }

  /** Every job's versions, newest first within a job. */
  everyHistory(): Map<string, JobVersion[]> {
    const all = new Map<string, JobVersion[]>();
    for (const row of this.allVersions.all()) {
      let versions = all.get(row.job);
      if (!versions) all.set(row.job, (versions = []));
      versions.push(toVersion(row));
    }
    return all;
  }

  rolloutFailed(name: string, version: number, reason: string): void {
    if (this.setFailure.run(reason, name, version).changes === 0) throw new Error(`job ${name} has no version ${version}`);
  }

  status(name: string, status: Job["status"], now: number): void {
    if (this.setStatus.run(status, now, name).changes === 0) throw new Error(`job ${name} does not exist`);
  }

  deleteVersion(name: string, version: number): void {
    this.removeVersion.run(name, version);
  }

  delete(name: string): void {
    this.remove.run(name);
  }
}
