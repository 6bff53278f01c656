import type Database from 'better-sqlite3';
import type { FlexySummary } from '../runtime/types.js';

/**
 * The last container states the watcher knew, kept across restarts so that
 * changes made while Kai was not running are reported (as reconciled events)
 * when it starts again, like changes made while the engine was away.
 */
export interface SnapshotStore {
  /** undefined when no snapshot was ever taken (a first start reports nothing). */
  load(): FlexySummary[] | undefined;
  save(items: FlexySummary[]): void;
}

export class SqliteSnapshotStore implements SnapshotStore {
  private readonly read;
  private readonly write;

  constructor(db: Database.Database) {
    this.read = db.prepare<[], { value: string }>("SELECT value FROM watcher_state WHERE key = 'containers'");
    this.write = db.prepare("INSERT INTO watcher_state (key, value) VALUES ('containers', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  }

  load(): FlexySummary[] | undefined {
    const row = this.read.get();
    if (!row) return undefined;
    try {
      return JSON.parse(row.value) as FlexySummary[];
    } catch {
      return undefined;
    }
  }

  save(items: FlexySummary[]): void {
    this.write.run(JSON.stringify(items));
  }
}
