import type { Database } from "bun:sqlite";
import type { Token, TokenRole } from "../model/token.ts";

/** A type alias, not an interface, so it binds as a named-parameter record. */
type TokenRow = {
  id: string;
  name: string;
  role: string;
  node_id: string | null;
  hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
};

function toToken(r: TokenRow): Token {
  return { id: r.id, name: r.name, role: r.role as TokenRole, nodeId: r.node_id, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at };
}

/** Tokens by id, each with the SHA-256 of its secret; secrets themselves are never stored. */
export class TokensRepo {
  private readonly insertStmt;
  private readonly byId;
  private readonly all;
  private readonly byNode;
  private readonly revokeStmt;
  private readonly touchStmt;

  constructor(db: Database) {
    this.insertStmt = db.prepare<null, [TokenRow]>(
      "INSERT INTO tokens (id, name, role, node_id, hash, created_at, last_used_at, revoked_at) VALUES ($id, $name, $role, $node_id, $hash, $created_at, $last_used_at, $revoked_at)",
    );
    this.byId = db.prepare<TokenRow, [string]>("SELECT * FROM tokens WHERE id = ?");
    this.all = db.prepare<TokenRow, []>("SELECT * FROM tokens ORDER BY created_at, id");
    this.byNode = db.prepare<TokenRow, [string]>("SELECT * FROM tokens WHERE node_id = ? ORDER BY created_at, id");
    this.revokeStmt = db.prepare<null, [number, string]>("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
    this.touchStmt = db.prepare<null, [number, string]>("UPDATE tokens SET last_used_at = ? WHERE id = ?");
  }

  insert(token: Token, hash: string): void {
    this.insertStmt.run({
      id: token.id,
      name: token.name,
      role: token.role,
      node_id: token.nodeId,
      hash,
      created_at: token.createdAt,
      last_used_at: token.lastUsedAt,
      revoked_at: token.revokedAt,
    });
  }

  /** The token and its hash, revoked or not. */
  find(id: string): { token: Token; hash: string } | null {
    const row = this.byId.get(id);
    return row ? { token: toToken(row), hash: row.hash } : null;
  }

  list(): Token[] {
    return this.all.all().map(toToken);
  }

  /** A node's credentials with their hashes, by the node_id index (a manager has one per node). */
  ofNode(nodeId: string): { token: Token; hash: string }[] {
    return this.byNode.all(nodeId).map((row) => ({ token: toToken(row), hash: row.hash }));
  }

  /** False when there was no such live token. */
  revoke(id: string, now: number): boolean {
    return this.revokeStmt.run(now, id).changes > 0;
  }

  touch(id: string, now: number): void {
    this.touchStmt.run(now, id);
  }
}
