import { BadRequestError, ConflictError, NotFoundError } from "../lib/errors.ts";
import type { JobView, PlanResult, SubmitResult, TaskView } from "../model/api-types.ts";
import { type ContainerPolicy, policyIssues } from "../model/container-policy.ts";
import type { JobSpec } from "../model/job.ts";
import { jobSizeIssues } from "../model/job-limits.ts";
import { JobValidationError } from "../model/job-validation-error.ts";
import { taskName } from "../model/task.ts";
import { isGone } from "../model/task-state.ts";
import type { Algorithm } from "../scheduler/index.ts";
import { ChangeSet } from "./change-set.ts";
import { STEP_WRITES } from "./evaluator.ts";
import type { ManagerContext } from "./context.ts";
import { planJob } from "./plan.ts";
import type { Queries } from "./queries.ts";
import { pinSecretVersions } from "./secret-refs.ts";
import { ledger } from "./task-ledger.ts";
import { jobView, taskView } from "./views.ts";

export interface JobLimits {
  /** What tasks may ask of their hosts (--allow). */
  policy: ContainerPolicy;
  /** Tasks one job may ask for, all groups together. */
  maxTasksPerJob: number;
  /** The cluster's default placement algorithm (--scheduler). */
  algorithm: Algorithm;
}

/**
 * What users ask of jobs and tasks. Each command checks the request against the current state
 * (a request that does not fit it is a 409 that says why) and commits its changes in one go; the
 * evaluation that follows does the rest.
 */
export class JobCommands {
  constructor(
    private readonly ctx: ManagerContext,
    private readonly limits: JobLimits,
    private readonly queries: Queries,
    /** Refuses (409) a spec claiming a service name or ingress host another job holds. */
    private readonly refuseTaken: (spec: JobSpec) => void,
  ) {}

  /** Every way a job gets stored (submit, scale, revert) passes here, so the manager's limits are checked once. */
  submitJob(submitted: JobSpec): SubmitResult {
    const spec = this.admit(submitted);
    this.refuseTaken(spec);
    const changes = new ChangeSet(this.ctx.now());
    changes.putJob(spec, ({ job, created, changed }) => `job ${spec.name} ${created ? "created" : changed ? `updated to version ${job.version}` : "submitted unchanged"}`);
    const [result] = this.ctx.commit(changes);
    const { created, changed } = result as NonNullable<typeof result>;
    return { job: this.queries.jobView(spec.name), created, changed };
  }

  /** Where the job's tasks would go now, every node scored or rejected with why (see planJob); refused like a submit, and nothing is stored. */
  plan(submitted: JobSpec): PlanResult {
    const spec = this.admit(submitted);
    const { state } = this.ctx;
    return planJob({ spec, nodes: [...state.nodeList()], tasks: [...state.tasks.all()], existing: state.job(spec.name)?.job ?? null, algorithm: this.limits.algorithm });
  }

  /**
   * Stopping a stopped job again changes nothing; `purge` also forgets it, once its tasks are told to
   * stop. The command tells at most STEP_WRITES tasks to stop, and the evaluation that follows stops
   * the rest (a stopped job's tasks are stopped by its reconcile), in steps of that size: a commit must
   * fit one etcd transaction, and one of 10,000 tasks would hold the manager's event loop for 100 ms or more.
   */
  stopJob(name: string, purge: boolean): JobView {
    const { job, versions } = this.queries.requireJob(name);
    const changes = new ChangeSet(this.ctx.now());
    if (job.status !== "stopped") changes.setJobStatus(name, "stopped");
    let budget = purge ? Number.POSITIVE_INFINITY : STEP_WRITES;
    const tasks = this.ctx.state.tasks
      .ofJob(name)
      .map((task) => (!isGone(task.state) && task.desired === "running" && budget-- > 0 ? ledger.requestStop(changes, task, "job stopped") : task));
    const stopped = { ...job, status: "stopped" as const, updatedAt: job.status === "stopped" ? job.updatedAt : changes.now };
    const view = jobView(stopped, tasks, versions.get(job.version)?.rolloutFailure ?? null);
    // Purging forgets the job once its tasks are told to stop; workers remove containers of tasks they no longer see.
    if (purge) changes.deleteJob(name);
    if (job.status !== "stopped" || purge) changes.publish({ at: changes.now, type: "job", job: name, message: `job ${name} stopped${purge ? " and purged" : ""}` });
    this.ctx.commit(changes);
    return view;
  }

  /** Changes one task group's count: a new job version that only scales, so running tasks stay. */
  scaleJob(name: string, group: string, count: number): SubmitResult {
    const { job } = this.queries.requireJob(name);
    if (!job.spec.tasks.some((g) => g.name === group)) {
      throw new NotFoundError(`job ${name} has no task ${group} (it has ${job.spec.tasks.map((g) => g.name).join(", ")})`);
    }
    if (job.spec.type === "system") throw new BadRequestError(`job ${name} is a system job: it runs one task per node and cannot be scaled`);
    if (job.status === "stopped") throw new ConflictError(`job ${name} is stopped: submit it again (cube run) to start it, then scale it`);
    return this.submitJob({ ...job.spec, tasks: job.spec.tasks.map((g) => (g.name === group ? { ...g, count } : g)) });
  }

  /** Submits an earlier version's spec again, as a new version (history is never rewritten). */
  revertJob(name: string, version: number): SubmitResult {
    const old = this.queries.requireJob(name).versions.get(version);
    if (!old) throw new NotFoundError(`job ${name} has no version ${version}`);
    return this.submitJob(old.spec);
  }

  /** Stops one task on a user's request; a service replaces it, like a failure. */
  stopTask(idOrPrefix: string): TaskView {
    const task = this.queries.findTask(idOrPrefix);
    if (isGone(task.state) || task.desired === "stopped") {
      throw new ConflictError(`task ${taskName(task)} is already ${task.desired === "stopped" && !isGone(task.state) ? "stopping" : task.state}`);
    }
    const changes = new ChangeSet(this.ctx.now());
    const stopped = ledger.requestStop(changes, task, "stopped by user");
    this.ctx.commit(changes);
    return taskView(stopped, (id) => this.ctx.state.node(id)?.name);
  }

  /** The spec as it is stored: refused (400) over the manager's limits or naming a secret that does not exist, else with its secrets pinned to their current versions. */
  private admit(spec: JobSpec): JobSpec {
    const pinned = pinSecretVersions(spec, (name) => this.ctx.store.getSecret(name)?.version);
    const refused = [...jobSizeIssues(spec, this.limits.maxTasksPerJob), ...policyIssues(spec, this.limits.policy), ...pinned.issues];
    if (refused.length > 0) throw new JobValidationError(refused);
    return pinned.spec;
  }
}
