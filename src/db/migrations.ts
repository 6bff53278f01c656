import type Database from 'better-sqlite3';

/**
 * Versioned schema changes, applied in order inside one transaction each.
 * PRAGMA user_version records the last one applied. Append only: never edit
 * a migration that has shipped.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'catalog',
    sql: `
      CREATE TABLE catalog_items (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL UNIQUE,
        host_path    TEXT NOT NULL,
        container_id TEXT,
        created_at   TEXT NOT NULL
      );
      CREATE INDEX catalog_items_created_at ON catalog_items (created_at);
    `,
  },
  {
    version: 2,
    name: 'auth',
    sql: `
      CREATE TABLE users (
        username      TEXT PRIMARY KEY,
        role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
        password_hash TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      );
      CREATE TABLE sessions (
        id         TEXT PRIMARY KEY,
        username   TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT
      );
      CREATE INDEX sessions_username ON sessions (username);
      CREATE TABLE api_tokens (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        username     TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
        token_hash   TEXT NOT NULL UNIQUE,
        created_at   TEXT NOT NULL,
        expires_at   TEXT,
        last_used_at TEXT,
        revoked_at   TEXT
      );
      CREATE INDEX api_tokens_username ON api_tokens (username);
    `,
  },
  {
    version: 3,
    name: 'webhooks',
    sql: `
      CREATE TABLE webhooks (
        id              TEXT PRIMARY KEY,
        url             TEXT NOT NULL,
        description     TEXT NOT NULL DEFAULT '',
        events          TEXT,
        enabled         INTEGER NOT NULL DEFAULT 1,
        secret          TEXT NOT NULL,
        disabled_reason TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL
      );
      CREATE TABLE webhook_deliveries (
        id               TEXT PRIMARY KEY,
        webhook_id       TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        event_type       TEXT NOT NULL,
        event_id         TEXT,
        payload          TEXT NOT NULL,
        status           TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  INTEGER,
        last_status_code INTEGER,
        last_error       TEXT,
        last_duration_ms INTEGER,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        completed_at     TEXT
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
      CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);
    `,
  },
  {
    version: 4,
    name: 'watcher state',
    sql: `
      CREATE TABLE watcher_state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'catalog node pin',
    sql: `
      ALTER TABLE catalog_items ADD COLUMN node TEXT;
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((latest, migration) => Math.max(latest, migration.version), 0);

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function migrate(db: Database.Database): number {
  const current = schemaVersion(db);
  if (current > LATEST_VERSION) {
    throw new Error(`Kai's database is at schema version ${current}, newer than this Kai (${LATEST_VERSION}); upgrade Kai`);
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
  return schemaVersion(db);
}
