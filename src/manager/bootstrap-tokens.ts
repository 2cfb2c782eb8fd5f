import { join } from "node:path";
import { readSecretFile, writeSecretFile } from "../lib/secret-file.ts";
import type { TokenRole } from "../model/token.ts";
import type { Tokens } from "./tokens.ts";

export interface BootstrapSecret {
  secret: string;
  /** Made at this start: the only time it is printed. */
  created: boolean;
}

export interface BootstrapTokens {
  /** null when an admin token exists but its secret is not in the data dir (it was shown once). */
  management: BootstrapSecret | null;
  join: BootstrapSecret;
}

export const MANAGEMENT_TOKEN_FILE = "management-token";
export const JOIN_TOKEN_FILE = "join-token";

function fromFile(tokens: Tokens, path: string, role: TokenRole): string | null {
  const secret = readSecretFile(path);
  return secret !== null && tokens.verify(secret)?.role === role ? secret : null;
}

/**
 * The tokens a manager needs to be usable at all. A manager without a live admin token makes one
 * (first start, or every admin token revoked: whoever can read the data dir is trusted anyway), and
 * one without a usable join token in its data dir makes a new one. Both files are mode 0600.
 */
export function bootstrapTokens(tokens: Tokens, dataDir: string): BootstrapTokens {
  const managementFile = join(dataDir, MANAGEMENT_TOKEN_FILE);
  let management: BootstrapSecret | null = null;
  const existing = fromFile(tokens, managementFile, "admin");
  if (existing) management = { secret: existing, created: false };
  else if (!tokens.hasLive("admin")) {
    management = { secret: tokens.create("admin", "management").secret, created: true };
    writeSecretFile(managementFile, management.secret);
  }

  const joinFile = join(dataDir, JOIN_TOKEN_FILE);
  const joinSecret = fromFile(tokens, joinFile, "join");
  if (joinSecret) return { management, join: { secret: joinSecret, created: false } };
  const created = tokens.create("join", "join").secret;
  writeSecretFile(joinFile, created);
  return { management, join: { secret: created, created: true } };
}
