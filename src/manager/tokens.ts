import { randomBytes, timingSafeEqual } from "node:crypto";
import { NotFoundError } from "../lib/errors.ts";
import { secretHash } from "../lib/secret-hash.ts";
import type { IssuedToken, Token, TokenRole, UserRole } from "../model/token.ts";
import type { Store } from "../store/index.ts";

/** Who a verified token speaks for. */
export type Principal = { role: UserRole | "join" } | { role: "worker"; nodeId: string };

/** A readable prefix says what a leaked secret is (and lets secret scanners find it). */
const PREFIX: Record<TokenRole, string> = { read: "cube_", submit: "cube_", admin: "cube_", join: "cubej_", worker: "cubew_" };
/** prefix, 12 hex digits of id, 32 random bytes in base64url. */
const FORMAT = /^cube[jw]?_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;
/** Writing last_used_at on every heartbeat and long-poll would cost a write per call; a minute is precise enough. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Creates, lists, revokes and verifies tokens. Only the SHA-256 of a secret is stored; the secret
 * carries its token's id, so verifying is one lookup and one constant-time comparison. Every call
 * verifies a token, so tokens once read are kept in memory; this class is their only writer.
 */
export class Tokens {
  private readonly known = new Map<string, { token: Token; hash: string }>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** @example tokens.create("read", "dashboard").secret // "cube_3f9c…_…" */
  create(role: TokenRole, name: string, nodeId: string | null = null): IssuedToken {
    const id = randomBytes(6).toString("hex");
    const secret = `${PREFIX[role]}${id}_${randomBytes(32).toString("base64url")}`;
    const token: Token = { id, name, role, nodeId, createdAt: this.now(), lastUsedAt: null, revokedAt: null };
    const hash = secretHash(secret);
    this.store.insertToken(token, hash);
    this.known.set(id, { token, hash });
    return { token, secret };
  }

  list(): Token[] {
    return this.store.listTokens();
  }

  /** Revoking twice is fine; an unknown id is a 404. */
  revoke(id: string): Token {
    const found = this.find(id);
    if (!found) throw new NotFoundError(`token ${id} does not exist`);
    this.store.revokeToken(id, this.now());
    this.known.delete(id);
    return this.find(id)?.token ?? found.token;
  }

  /** The principal of a live token, or null for anything else (malformed, unknown, revoked, wrong secret). */
  verify(secret: string): Principal | null {
    const id = FORMAT.exec(secret)?.[1];
    const found = id === undefined ? null : this.find(id);
    if (!found || found.token.revokedAt !== null) return null;
    if (!timingSafeEqual(Buffer.from(secretHash(secret), "hex"), Buffer.from(found.hash, "hex"))) return null;
    const { token } = found;
    const now = this.now();
    if (token.lastUsedAt === null || now - token.lastUsedAt >= TOUCH_EVERY_MS) {
      this.store.touchToken(token.id, now);
      found.token = { ...token, lastUsedAt: now };
    }
    return token.role === "worker" ? { role: "worker", nodeId: token.nodeId ?? "" } : { role: token.role };
  }

  private find(id: string): { token: Token; hash: string } | null {
    let found = this.known.get(id) ?? null;
    if (!found) {
      found = this.store.getToken(id);
      if (found) this.known.set(id, found);
    }
    return found;
  }

  /** Another manager changed the token (a shared store): read it again when next asked. */
  forget(id?: string): void {
    if (id === undefined) this.known.clear();
    else this.known.delete(id);
  }

  hasLive(role: TokenRole): boolean {
    return this.list().some((t) => t.role === role && t.revokedAt === null);
  }

  /**
   * What the manager shows a worker to call its API (logs, exec, restart): the stored SHA-256 of the
   * node's live credential, which only the manager and that worker can know. Null without one.
   */
  workerKey(nodeId: string): string | null {
    return this.store.listNodeTokens(nodeId).find((t) => t.token.role === "worker" && t.token.revokedAt === null)?.hash ?? null;
  }

  /** Whether the node was ever given a credential (revoked ones count: revoked stays revoked). */
  nodeHadCredential(nodeId: string): boolean {
    return this.store.listNodeTokens(nodeId).some((t) => t.token.role === "worker");
  }
}
