import type { Tokens } from "../../src/manager/tokens.ts";

const WORKER_ROUTE = /^\/v1\/nodes\/([^/?]+)\/(heartbeat|assignments|tasks$)/;

/**
 * The token each API call needs, so a test of something else can call any route as the right
 * party: a node's own credential on the worker routes, the join token to register, an admin token
 * for everything else. What is allowed to whom is tested in auth.test.ts.
 */
export class TestTokens {
  readonly admin: string;
  readonly join: string;
  private readonly credentials = new Map<string, string>();

  constructor(private readonly tokens: Tokens) {
    this.admin = tokens.create("admin", "test").secret;
    this.join = tokens.create("join", "test").secret;
  }

  /** Keeps the credential a registration returned, for the node's later calls. */
  remember(nodeId: string, credential: string | undefined): void {
    if (credential) this.credentials.set(nodeId, credential);
  }

  /** The node's credential; one is made for a node that never registered (to reach its 404s). */
  credential(nodeId: string): string {
    let secret = this.credentials.get(nodeId);
    if (!secret) this.credentials.set(nodeId, (secret = this.tokens.create("worker", nodeId, nodeId).secret));
    return secret;
  }

  tokenFor(path: string): string {
    const node = WORKER_ROUTE.exec(path)?.[1];
    if (node !== undefined) return this.credential(decodeURIComponent(node));
    return path.startsWith("/v1/nodes/register") ? this.join : this.admin;
  }

  headers(path: string): Record<string, string> {
    return { authorization: `Bearer ${this.tokenFor(path)}` };
  }
}
