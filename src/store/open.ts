import { Database } from "bun:sqlite";
import { MIGRATIONS } from "./migrations.ts";

/** Opens (or creates) the database with the PRAGMAs Cube relies on and applies missing migrations. */
export function openDatabase(path: string): Database {
  const db = new Database(path, { create: true, strict: true });
  try {
    // An in-memory database cannot use WAL and has no other connection to share with.
    if (path !== ":memory:") db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = NORMAL");
    db.run("PRAGMA busy_timeout = 5000");
    db.run("PRAGMA foreign_keys = ON");
    migrate(db, path);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function migrate(db: Database, path: string): void {
  db.run("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const applied = new Set(db.query<{ version: number }, []>("SELECT version FROM schema_migrations").all().map((r) => r.version));
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  const newest = Math.max(0, ...applied);
  // Running old code on a newer schema could silently corrupt data written by the newer Cube.
  if (newest > latest) {
    throw new Error(`the database ${path} has schema version ${newest}, newer than this Cube knows (${latest}); run a newer cube`);
  }
  const record = db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.run(m.sql);
      record.run(m.version, Date.now());
    })();
  }
  record.finalize();
}
