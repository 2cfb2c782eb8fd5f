import { z } from "zod";
import { BadRequestError } from "../lib/errors.ts";
import { type HeartbeatRequest, MAX_REPORTS_PER_REQUEST, type RegisterRequest, type TaskReportItem } from "../model/api-types.ts";
import { MAX_COUNT } from "../model/job-schema.ts";
import { TASK_STATES } from "../model/task-state.ts";

const resources = z.strictObject({ cpu: z.number().nonnegative(), memory: z.number().nonnegative(), disk: z.number().nonnegative() });

const register = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "node ids are letters, digits, '.', '_' or '-'").optional(),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "node names are letters, digits, '.', '_' or '-'"),
  address: z.url(),
  datacenter: z.string().min(1).max(63),
  labels: z.record(z.string().max(128), z.string().max(1024)),
  capacity: resources,
  version: z.string().max(64),
});

const heartbeat = z.strictObject({
  stats: z.strictObject({ cpuPercent: z.number(), memoryUsedMb: z.number(), diskUsedMb: z.number(), at: z.number() }),
  events: z.array(z.strictObject({ at: z.number(), message: z.string().max(1024), task: z.string().max(128).optional() })).max(100).optional(),
  images: z
    .strictObject({
      digest: z.string().max(128),
      refs: z.array(z.string().max(512)).max(10_000),
      unpullable: z.array(z.strictObject({ image: z.string().max(512), message: z.string().max(4096), at: z.number() })).max(1_000),
    })
    .optional(),
});

const report = z.strictObject({
  taskId: z.string().min(1).max(128),
  state: z.enum(TASK_STATES),
  message: z.string().max(4096),
  containerId: z.string().max(128).nullable().optional(),
  hostPorts: z.record(z.string(), z.number().int().min(0).max(65535)).optional(),
  exitCode: z.number().int().nullable().optional(),
  restarts: z.number().int().min(0).optional(),
  health: z.enum(["starting", "healthy", "unhealthy"]).nullable().optional(),
  nextAttemptAt: z.number().int().nonnegative().nullable().optional(),
});

const reports = z.strictObject({ reports: z.array(report).min(1).max(MAX_REPORTS_PER_REQUEST) });

const scale = z.strictObject({ group: z.string().min(1).max(63), count: z.number().int().min(0).max(MAX_COUNT) });

const eligibility = z.strictObject({ eligible: z.boolean() });

const exec = z.strictObject({
  command: z.array(z.string().max(65_536)).min(1).max(1024),
  timeoutMs: z.number().int().min(1).max(10 * 60_000).default(60_000),
});

const revert = z.strictObject({ version: z.number().int().min(1) });

const newToken = z.strictObject({
  role: z.enum(["read", "submit", "admin", "join"]),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,62}$/, "token names are 1-63 letters, digits, spaces or . _ @ -"),
});

/** The request bodies above by the name the API document (openapi.ts) gives them: its schemas are made from these. */
export const WIRE_SCHEMAS = {
  Registration: register,
  Heartbeat: heartbeat,
  TaskReports: reports,
  ScaleRequest: scale,
  EligibilityRequest: eligibility,
  ExecRequest: exec,
  RevertRequest: revert,
  TokenRequest: newToken,
} satisfies Record<string, z.ZodType>;

function parseWith<T>(schema: z.ZodType<T>, what: string, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  throw new BadRequestError(`invalid ${what}: ${issues.map((i) => `${i.path || "body"}: ${i.message}`).join("; ")}`, issues);
}

export const parseRegister = (input: unknown): RegisterRequest => parseWith(register, "registration", input);
export const parseHeartbeat = (input: unknown): HeartbeatRequest => parseWith(heartbeat, "heartbeat", input);
export const parseTaskReports = (input: unknown): TaskReportItem[] => parseWith(reports, "task reports", input).reports;
export const parseScale = (input: unknown): { group: string; count: number } => parseWith(scale, "scale request", input);
export const parseEligibility = (input: unknown): { eligible: boolean } => parseWith(eligibility, "eligibility request", input);
export const parseExec = (input: unknown): { command: string[]; timeoutMs: number } => parseWith(exec, "exec request", input);
export const parseRevert = (input: unknown): { version: number } => parseWith(revert, "revert request", input);
export const parseNewToken = (input: unknown): { role: "read" | "submit" | "admin" | "join"; name: string } => parseWith(newToken, "token request", input);
