import { createHash } from "node:crypto";

/** SHA-256 (hex) of a token's secret: what the manager stores instead of the secret. */
export function secretHash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
