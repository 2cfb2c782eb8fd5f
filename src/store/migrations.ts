/**
 * Schema migrations, embedded as strings so the compiled binary never reads SQL files at run time.
 * Append only: a released migration is never edited.
 */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE jobs (
        name TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE job_versions (
        job TEXT NOT NULL REFERENCES jobs(name) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        spec TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (job, version)
      );
      CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        job TEXT NOT NULL REFERENCES jobs(name) ON DELETE CASCADE,
        job_version INTEGER NOT NULL,
        grp TEXT NOT NULL,
        idx INTEGER NOT NULL,
        node_id TEXT,
        desired TEXT NOT NULL,
        state TEXT NOT NULL,
        resources TEXT NOT NULL,
        reserved_ports TEXT NOT NULL,
        host_ports TEXT NOT NULL,
        container_id TEXT,
        exit_code INTEGER,
        message TEXT NOT NULL,
        restarts INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER
      );
      CREATE INDEX tasks_job ON tasks(job);
      CREATE INDEX tasks_node_state ON tasks(node_id, state);
      CREATE INDEX tasks_state ON tasks(state);
      CREATE TABLE task_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        state TEXT NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX task_events_task ON task_events(task_id);
      CREATE TABLE nodes (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        address TEXT NOT NULL,
        datacenter TEXT NOT NULL,
        labels TEXT NOT NULL,
        capacity TEXT NOT NULL,
        stats TEXT,
        status TEXT NOT NULL,
        eligible INTEGER NOT NULL,
        last_heartbeat INTEGER NOT NULL,
        registered_at INTEGER NOT NULL,
        version TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    sql: "ALTER TABLE tasks ADD COLUMN health TEXT",
  },
  {
    // API tokens, join tokens and worker credentials; only a SHA-256 of each secret is kept.
    version: 3,
    sql: `
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        node_id TEXT,
        hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      );
      CREATE INDEX tokens_node ON tokens(node_id);
    `,
  },
  {
    version: 4,
    sql: "ALTER TABLE tasks ADD COLUMN next_attempt_at INTEGER",
  },
  {
    // What happened to a version's rolling update, so a restarted manager neither retries nor re-reverts it.
    version: 5,
    sql: `
      ALTER TABLE job_versions ADD COLUMN rollout_failure TEXT;
      ALTER TABLE job_versions ADD COLUMN auto_revert INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    // The manager reads tasks by node and state from memory; these indexes only made every state change cost more writes.
    version: 6,
    sql: `
      DROP INDEX tasks_node_state;
      DROP INDEX tasks_state;
    `,
  },
  {
    // Secrets, each a JSON record of its kept versions' sealed values; the keyring's wrapped data keys (one row);
    // and why the manager made a job version itself (a secret it uses changed).
    version: 7,
    sql: `
      CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE keyring (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value TEXT NOT NULL
      );
      ALTER TABLE job_versions ADD COLUMN reason TEXT;
    `,
  },
  {
    // A task's newest 20 events (TASK_EVENTS_KEPT), newest last, in its own row, as the etcd store keeps
    // them: a state change then writes the row's page only. An event row also wrote a random page of the
    // task_id index, which tripled what a report cost to store (22 µs, 7 without, in commits of 100).
    version: 8,
    sql: `
      ALTER TABLE tasks ADD COLUMN events TEXT NOT NULL DEFAULT '[]';
      UPDATE tasks SET events = (
        SELECT json_group_array(json_object('id', id, 'at', at, 'state', state, 'message', message))
        FROM (SELECT * FROM (SELECT id, at, state, message FROM task_events WHERE task_id = tasks.id ORDER BY id DESC LIMIT 20) ORDER BY id)
      );
      DROP TABLE task_events;
    `,
  },
];
