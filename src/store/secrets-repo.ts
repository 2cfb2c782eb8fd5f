import type { Database } from "bun:sqlite";
import type { StoredKeyring, StoredSecret } from "../model/secret.ts";

/** Secrets (each one JSON record: its kept versions, sealed) and the keyring's one record of wrapped data keys. */
export class SecretsRepo {
  private readonly upsert;
  private readonly byName;
  private readonly all;
  private readonly remove;
  private readonly ring;
  private readonly putRing;

  constructor(db: Database) {
    this.upsert = db.prepare<null, [string, string]>("INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value");
    this.byName = db.prepare<{ value: string }, [string]>("SELECT value FROM secrets WHERE name = ?");
    this.all = db.prepare<{ value: string }, []>("SELECT value FROM secrets ORDER BY name");
    this.remove = db.prepare<null, [string]>("DELETE FROM secrets WHERE name = ?");
    this.ring = db.prepare<{ value: string }, []>("SELECT value FROM keyring WHERE id = 1");
    this.putRing = db.prepare<null, [string]>("INSERT INTO keyring (id, value) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value");
  }

  put(secret: StoredSecret): void {
    this.upsert.run(secret.name, JSON.stringify(secret));
  }

  find(name: string): StoredSecret | null {
    const row = this.byName.get(name);
    return row ? (JSON.parse(row.value) as StoredSecret) : null;
  }

  list(): StoredSecret[] {
    return this.all.all().map((row) => JSON.parse(row.value) as StoredSecret);
  }

  delete(name: string): void {
    this.remove.run(name);
  }

  keyring(): StoredKeyring | null {
    const row = this.ring.get();
    return row ? (JSON.parse(row.value) as StoredKeyring) : null;
  }

  putKeyring(keyring: StoredKeyring): void {
    this.putRing.run(JSON.stringify(keyring));
  }
}
