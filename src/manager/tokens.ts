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

/** A live token, as the API's front thread keeps it (by id) to verify secrets itself (`Tokens.follow`). */
export interface KnownToken {
  principal: Principal;
  hash: string;
}

/** The principal of a secret, given the known token its id names (secrets are checked in constant time). */
export function verifySecret(secret: string, find: (id: string) => { principal: Principal; hash: string; revoked?: boolean } | null | undefined): { id: string; principal: Principal } | null {
  const id = FORMAT.exec(secret)?.[1];
  const found = id === undefined ? null : find(id);
  if (!found || found.revoked) return null;
  if (!timingSafeEqual(Buffer.from(secretHash(secret), "hex"), Buffer.from(found.hash, "hex"))) return null;
  return { id: id as string, principal: found.principal };
}

const principalOf = (token: Token): Principal => (token.role === "worker" ? { role: "worker", nodeId: token.nodeId ?? "" } : { role: token.role });
const knownOf = (found: { token: Token; hash: string }): KnownToken => ({ principal: principalOf(found.token), hash: found.hash });

/** Writing last_used_at on every heartbeat and long-poll would cost a write per call; a minute is precise enough. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Creates, lists, revokes and verifies tokens. Only the SHA-256 of a secret is stored; the secret
 * carries its token's id, so verifying is one lookup and one constant-time comparison. Every call
 * verifies a token, so tokens once read are kept in memory; this class is their only writer.
 */
export class Tokens {
  private readonly known = new Map<string, { token: Token; hash: string }>();
  /** Told of each token this class comes to know, and of each it forgets. */
  private listener: ((id: string, known: KnownToken | null) => void) | null = null;

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
    this.remember(id, { token, hash });
    return { token, secret };
  }

  /** Tells `listener` of every live token known now and from now on, and of every one forgotten. */
  follow(listener: ((id: string, known: KnownToken | null) => void) | null): void {
    this.listener = listener;
    if (listener) for (const [id, found] of this.known) if (found.token.revokedAt === null) listener(id, knownOf(found));
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
    this.listener?.(id, null);
    return this.find(id)?.token ?? found.token;
  }

  /** The principal of a live token, or null for anything else (malformed, unknown, revoked, wrong secret). */
  verify(secret: string): Principal | null {
    const verified = verifySecret(secret, (id) => {
      const found = this.find(id);
      return found && { principal: principalOf(found.token), hash: found.hash, revoked: found.token.revokedAt !== null };
    });
    if (verified) this.used(verified.id);
    return verified?.principal ?? null;
  }

  /** The token was used (verified here or by a copy): its last use is written at most once a minute. */
  used(id: string): void {
    const found = this.known.get(id);
    if (!found) return;
    const { token } = found;
    const now = this.now();
    if (token.lastUsedAt === null || now - token.lastUsedAt >= TOUCH_EVERY_MS) {
      this.store.touchToken(token.id, now);
      found.token = { ...token, lastUsedAt: now };
    }
  }

  private find(id: string): { token: Token; hash: string } | null {
    let found = this.known.get(id) ?? null;
    if (!found) {
      found = this.store.getToken(id);
      if (found) this.remember(id, found);
    }
    return found;
  }

  private remember(id: string, found: { token: Token; hash: string }): void {
    this.known.set(id, found);
    if (found.token.revokedAt === null) this.listener?.(id, knownOf(found));
  }

  /** Another manager changed the token (a shared store): read it again when next asked. */
  forget(id?: string): void {
    for (const known of id === undefined ? [...this.known.keys()] : [id]) {
      this.known.delete(known);
      this.listener?.(known, null);
    }
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
