import { readFileSync } from "node:fs";
import type { TlsKeyPair } from "../server/http-server.ts";

function readPem(flag: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`--${flag}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** `--tls-cert` and `--tls-key` go together; neither means plain HTTP. */
export function tlsKeyPairArg(cert: string | undefined, key: string | undefined): TlsKeyPair | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) throw new Error("--tls-cert and --tls-key go together (cube tls init makes both)");
  return { cert: readPem("tls-cert", cert), key: readPem("tls-key", key) };
}

/** The CA certificate to verify the manager with: `--tls-ca`, else CUBE_TLS_CA, else the system's CAs. */
export function tlsCaArg(path: string | undefined): string | undefined {
  const file = path ?? process.env.CUBE_TLS_CA;
  return file ? readPem("tls-ca", file) : undefined;
}

export const tlsServerArgs = {
  "tls-cert": { type: "string", description: "serve HTTPS with this certificate (PEM; cube tls init makes one)" },
  "tls-key": { type: "string", description: "the certificate's private key (PEM)" },
} as const;
