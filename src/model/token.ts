/**
 * Who may call the manager. Users hold `read` ⊂ `submit` ⊂ `admin` tokens; a `join` token lets a
 * worker register; a `worker` credential, issued at registration, speaks for one node only.
 */
export const USER_ROLES = ["read", "submit", "admin"] as const;
export type UserRole = (typeof USER_ROLES)[number];
export type TokenRole = UserRole | "join" | "worker";

/**
 * What a caller needs for a route: nothing (`public`), a user role, a join token (`join`), or the
 * credential of the node named by the path's `:id` (`node`).
 */
export type Requirement = "public" | UserRole | "join" | "node";

/** A stored token without its secret (the manager keeps only a hash of that). */
export interface Token {
  id: string;
  name: string;
  role: TokenRole;
  /** The node a worker credential speaks for; null for every other role. */
  nodeId: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** A token as it is created: the only time its secret is shown. */
export interface IssuedToken {
  token: Token;
  secret: string;
}
