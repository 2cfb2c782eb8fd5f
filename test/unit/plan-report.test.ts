import { describe, expect, test } from "bun:test";
import { describeScore, formatPlan, groupRejections } from "../../src/cli/plan-report.ts";
import { pendingReasons } from "../../src/cli/pending-reasons.ts";
import type { JobDetail, PlanResult, TaskView } from "../../src/model/api-types.ts";
import { makeTask } from "./fixtures.ts";

const score = (nodeName: string, total: number, byPlugin: Record<string, number> = {}) => ({ nodeId: `id-${nodeName}`, nodeName, total, byPlugin });
const rejection = (nodeName: string, reason: string) => ({ nodeId: `id-${nodeName}`, nodeName, reason });

describe("cube plan's text", () => {
  test("a score reads as node, total and each plugin", () => {
    expect(describeScore(score("dev-2", 83.47, { binpack: 66.67, "job-anti-affinity": 100 }))).toBe("dev-2 (score 83.5: binpack 67, job-anti-affinity 100)");
  });

  test("rejections are grouped by reason, most common first, names cut after five", () => {
    const rejected = [...["a", "b", "c", "d", "e", "f", "g"].map((n) => rejection(n, "node is down")), rejection("h", "port 8080 in use")];
    expect(groupRejections(rejected)).toEqual(["7 nodes: node is down (a, b, c, d, e +2 more)", "1 node: port 8080 in use (h)"]);
  });

  test("per task: where it goes, the other candidates, the rejected; a failure says why", () => {
    const plan: PlanResult = {
      job: "web",
      algorithm: "binpack",
      existingVersion: 2,
      nodes: 3,
      groups: [
        {
          name: "http",
          count: 3,
          placed: 2,
          tasks: [
            { name: "web.http.0", index: 0, node: { id: "id-dev-2", name: "dev-2" }, score: score("dev-2", 83.5, { binpack: 67, "job-anti-affinity": 100 }), candidates: [score("dev-2", 83.5), score("dev-1", 80.12)], rejected: [rejection("dev-3", "memory exhausted: needs 512 MiB, 300 free")], reasons: {}, failure: null, detailed: true },
            { name: "web.http.1", index: 1, node: { id: "id-dev-1", name: "dev-1" }, score: score("dev-1", 70, { binpack: 40 }), candidates: [], rejected: [], reasons: {}, failure: null, detailed: false },
            { name: "web.http.2", index: 2, node: null, score: null, candidates: [], rejected: [], reasons: { "node is down": 3 }, failure: "no node can run it: 3 nodes: node is down", detailed: false },
          ],
        },
      ],
    };
    expect(formatPlan(plan)).toBe(
      [
        "job web: binpack over 3 nodes (version 2 exists: planned as if placed afresh)",
        "web.http: 2/3 placed",
        "  web.http.0 → dev-2 (score 83.5: binpack 67, job-anti-affinity 100)",
        "      other candidates: dev-1 80.1",
        "      rejected 1 node: memory exhausted: needs 512 MiB, 300 free (dev-3)",
        "  … 1 more placed on 1 node (--json lists each)",
        "  … 1 more ✗ no node can run it: 3 nodes: node is down",
        "1 of 3 task(s) cannot be placed; nothing was changed",
      ].join("\n"),
    );
  });
});

describe("cube run's pending reasons", () => {
  test("pending tasks of the version, one line per reason; tasks not yet looked at are left out", () => {
    const view = (index: number, message: string, state: TaskView["state"] = "pending", jobVersion = 2): TaskView => ({ ...makeTask({ index, message, state, jobVersion, nodeId: null }), name: `web.http.${index}`, nodeName: null });
    const full = "no node can run it: 1 node: memory exhausted: needs 512 MiB, 300 free";
    const job = { tasks: [view(0, full), view(1, full), view(2, full), view(3, full), view(4, "waiting for placement"), view(5, "placed on a", "scheduled"), view(6, full, "pending", 1)] } as JobDetail;
    expect(pendingReasons(job, 2)).toEqual([`4 task(s) pending: ${full} (web.http.0, web.http.1, web.http.2 +1 more)`]);
  });
});
