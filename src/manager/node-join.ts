import { ForbiddenError } from "../lib/errors.ts";
import type { RegisterRequest, RegisterResponse } from "../model/api-types.ts";
import type { Node } from "../model/node.ts";
import type { Principal, Tokens } from "./tokens.ts";

/**
 * Admits a worker. A join token registers a node that never had a credential and issues its
 * credential; a restarted worker re-registers with that credential, for its own node only. Node ids
 * are not secret, so a join token alone can never take over a node, nor bring back a revoked one.
 */
export function joinNode(register: (request: RegisterRequest) => Node, tokens: Tokens, principal: Principal, request: RegisterRequest): RegisterResponse {
  if (principal.role === "worker") {
    if (request.id !== principal.nodeId) throw new ForbiddenError(`this credential belongs to node ${principal.nodeId}; it cannot register node ${request.id ?? "(new)"}`);
    return { node: register(request) };
  }
  if (request.id !== undefined && tokens.nodeHadCredential(request.id)) {
    throw new ForbiddenError(
      `node ${request.id} already has a credential (or had one that was revoked): a worker re-registers with its own credential, kept in its data dir; to join as a new node, remove node-id and credential from that dir`,
    );
  }
  const node = register(request);
  return { node, credential: tokens.create("worker", `node ${node.name}`, node.id).secret };
}
