/**
 * How a hollow node sends task reports. Two routes exist across manager versions: one report per
 * request (`POST /v1/nodes/:id/tasks/:taskId`) and a batch (`POST /v1/nodes/:id/tasks` with
 * `{ reports: [{ taskId, ...report }] }` → `{ results: [...] }`). The fleet probes once and uses the
 * batch when the manager has it.
 */
import type { ApiClient } from "../src/client/api-client.ts";
import type { TaskReport } from "../src/model/api-types.ts";

export type ReportRoute = "batch" | "single";

export interface PendingReport {
  taskId: string;
  report: TaskReport;
}

/**
 * What became of the first `settled` reports: taken by the manager, or refused with a 4xx (the task
 * moved on meanwhile; dropped, as the real worker does). The rest are still to send, because of `error`.
 */
export interface ReportOutcome {
  accepted: PendingReport[];
  refused: number;
  settled: number;
  error?: string;
}

/** A node's own view of the manager: its client (holding the node's credential) and the credential itself, for raw calls. */
export interface NodeConnection {
  client: ApiClient;
  nodeId: string;
  credential: string;
}

/**
 * Which route this manager answers. A manager without the batch route answers 404 or 405 — or 403,
 * because a route missing from its role table needs an admin token, which a node credential is not.
 */
export async function probeReportRoute(node: NodeConnection): Promise<ReportRoute> {
  const response = await postBatch(node, []);
  await response.body?.cancel();
  return [403, 404, 405].includes(response.status) ? "single" : "batch";
}

/** Sends a node's pending reports in order: all in one request on the batch route, one after another on the single route. */
export async function sendReports(route: ReportRoute, node: NodeConnection, reports: PendingReport[]): Promise<ReportOutcome> {
  const outcome: ReportOutcome = { accepted: [], refused: 0, settled: 0 };
  if (route === "batch") {
    try {
      const response = await postBatch(node, reports);
      if (response.status >= 500) return { ...outcome, error: `HTTP ${response.status}: ${(await response.text()).slice(0, 200)}` };
      if (!response.ok) {
        await response.body?.cancel();
        return { ...outcome, refused: reports.length, settled: reports.length };
      }
      const { results } = (await response.json()) as { results: { error?: unknown }[] };
      const accepted = reports.filter((_, i) => results[i] !== undefined && results[i]?.error === undefined);
      return { accepted, refused: reports.length - accepted.length, settled: reports.length };
    } catch (err) {
      return { ...outcome, error: (err as Error).message };
    }
  }
  for (const pending of reports) {
    try {
      const response = await postSingle(node, pending);
      await response.body?.cancel();
      if (response.status >= 500) return { ...outcome, error: `HTTP ${response.status}` };
      if (response.ok) outcome.accepted.push(pending);
      else outcome.refused++;
    } catch (err) {
      return { ...outcome, error: (err as Error).message };
    }
    outcome.settled++;
  }
  return outcome;
}

/** The one-report route of managers before the batch route (the client no longer has a method for it). */
function postSingle(node: NodeConnection, { taskId, report }: PendingReport): Promise<Response> {
  return fetch(`${node.client.base}/v1/nodes/${node.nodeId}/tasks/${taskId}`, {
    method: "POST",
    headers: { authorization: `Bearer ${node.credential}`, "content-type": "application/json" },
    body: JSON.stringify(report),
    signal: AbortSignal.timeout(30_000),
  });
}

function postBatch(node: NodeConnection, reports: PendingReport[]): Promise<Response> {
  return fetch(`${node.client.base}/v1/nodes/${node.nodeId}/tasks`, {
    method: "POST",
    headers: { authorization: `Bearer ${node.credential}`, "content-type": "application/json" },
    body: JSON.stringify({ reports: reports.map(({ taskId, report }) => ({ taskId, ...report })) }),
    signal: AbortSignal.timeout(30_000),
  });
}
