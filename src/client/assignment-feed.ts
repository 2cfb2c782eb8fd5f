import type { Assignment, AssignmentsResponse } from "../model/api-types.ts";
import type { ApiClient } from "./api-client.ts";

/**
 * A node's assignment watch that asks only for what changed since its last answer and keeps the whole
 * list itself, so its caller still sees every task the node should hold on each answer. The first
 * call, and any after a failed one or from another index, gets the whole list.
 * @example const feed = new AssignmentFeed(client); ({ index, assignments } = await feed.next(nodeId, index, 30_000));
 */
export class AssignmentFeed {
  private held: { nodeId: string; index: string; byId: Map<string, Assignment> } | null = null;

  constructor(private readonly client: Pick<ApiClient, "assignments">) {}

  async next(nodeId: string, index: string, waitMs: number, signal?: AbortSignal): Promise<AssignmentsResponse> {
    const base = this.held?.nodeId === nodeId && this.held.index === index ? this.held : null;
    const answer = await this.client.assignments(nodeId, index, waitMs, signal, { delta: base !== null });
    let byId: Map<string, Assignment>;
    if (answer.removed === undefined) byId = new Map(answer.assignments.map((a) => [a.task.id, a]));
    else if (base) {
      byId = new Map(base.byId);
      for (const id of answer.removed) byId.delete(id);
      for (const a of answer.assignments) byId.set(a.task.id, a);
    } else {
      throw new Error(`the manager answered node ${nodeId}'s watch with changes since ${index}, but this worker asked for its whole list`);
    }
    this.held = { nodeId, index: answer.index, byId };
    return { index: answer.index, assignments: [...byId.values()] };
  }
}
