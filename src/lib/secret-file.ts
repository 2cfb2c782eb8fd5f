import { chmodSync, readFileSync, writeFileSync } from "node:fs";

/** Writes a secret readable by its owner only (0600), also when the file already existed with another mode. */
export function writeSecretFile(path: string, secret: string): void {
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** The file's first line, or null when it is missing or empty. */
export function readSecretFile(path: string): string | null {
  try {
    return readFileSync(path, "utf8").split("\n")[0]?.trim() || null;
  } catch {
    return null;
  }
}
