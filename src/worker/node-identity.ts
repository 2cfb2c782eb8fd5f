import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newId } from "../lib/ids.ts";
import { readSecretFile, writeSecretFile } from "../lib/secret-file.ts";

/**
 * What a worker keeps in its data dir to stay the same node across restarts: its id, and the
 * credential the manager issued when the join token admitted it (readable by its owner only).
 */
export class NodeIdentity {
  readonly nodeId: string;
  private readonly credentialFile: string;
  private saved: string | null;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    const idFile = join(dataDir, "node-id");
    const id = readSecretFile(idFile);
    this.nodeId = id ?? newId();
    if (!id) writeFileSync(idFile, `${this.nodeId}\n`);
    this.credentialFile = join(dataDir, "credential");
    this.saved = readSecretFile(this.credentialFile);
  }

  get credential(): string | null {
    return this.saved;
  }

  saveCredential(secret: string): void {
    writeSecretFile(this.credentialFile, secret);
    this.saved = secret;
  }
}
