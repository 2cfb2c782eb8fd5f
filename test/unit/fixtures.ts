import type { Job, JobSpec, TaskSpec } from "../../src/model/job.ts";
import type { Node } from "../../src/model/node.ts";
import type { Task } from "../../src/model/task.ts";
import { JobValidationError, validateJob } from "../../src/model/job-schema.ts";

export function makeNode(name: string, overrides: Partial<Node> = {}): Node {
  return {
    id: `id-${name}`,
    name,
    address: `http://127.0.0.1:1/${name}`,
    datacenter: "dc1",
    labels: {},
    capacity: { cpu: 4, memory: 4096, disk: 10_000 },
    stats: null,
    status: "ready",
    eligible: true,
    lastHeartbeat: 0,
    registeredAt: 0,
    version: "test",
    ...overrides,
  };
}

export function makeTaskSpec(overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    name: "http",
    image: "cube-test/busybox:latest",
    count: 1,
    env: {},
    labels: {},
    resources: { cpu: 0.5, memory: 256, disk: 0 },
    ports: [],
    restart: { attempts: 2, intervalMs: 60_000, delayMs: 1_000, mode: "fail" },
    constraints: [],
    ...overrides,
  };
}

export function makeJobSpec(name: string, tasks: Partial<TaskSpec>[] = [{}], overrides: Partial<JobSpec> = {}): JobSpec {
  return { name, type: "service", datacenters: [], constraints: [], tasks: tasks.map((t) => makeTaskSpec(t)), ...overrides };
}

export function makeJob(spec: JobSpec, version = 1, status: Job["status"] = "running"): Job {
  return { spec, version, status, createdAt: 0, updatedAt: 0 };
}

let counter = 0;
export function makeTask(overrides: Partial<Task> = {}): Task {
  counter++;
  return {
    id: `task-${counter}`,
    job: "web",
    jobVersion: 1,
    group: "http",
    index: 0,
    nodeId: "id-a",
    desired: "running",
    state: "running",
    resources: { cpu: 0.5, memory: 256, disk: 0 },
    reservedPorts: {},
    hostPorts: {},
    containerId: null,
    exitCode: null,
    message: "",
    restarts: 0,
    createdAt: counter,
    updatedAt: counter,
    startedAt: null,
    finishedAt: null,
    health: null,
    nextAttemptAt: null,
    ...overrides,
  };
}

/** The problems validateJob finds in a job file's content, each with its field's path; none for a valid one. */
export function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    validateJob(input);
  } catch (err) {
    if (err instanceof JobValidationError) return err.issues;
    throw err;
  }
  return [];
}
