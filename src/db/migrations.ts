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
