import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { KaiError } from '../errors.js';

export interface CatalogItem {
  id: string;
  name: string;
  hostPath: string;
  containerId: string | null;
  /** Swarm node (id or hostname) that holds the folder; new sandboxes for the item are pinned there. */
  node: string | null;
  createdAt: string;
}

/** Where catalog items live; SQLite now, another database when several Kai share state. */
export interface CatalogStore {
  list(): CatalogItem[];
  get(id: string): CatalogItem | undefined;
  add(item: { name: string; hostPath: string; node?: string | null }): CatalogItem;
  remove(id: string): boolean;
  setContainer(id: string, containerId: string | null): void;
}

interface Row {
  id: string;
  name: string;
  host_path: string;
  container_id: string | null;
  node: string | null;
  created_at: string;
}

function fromRow(row: Row): CatalogItem {
  return { id: row.id, name: row.name, hostPath: row.host_path, containerId: row.container_id, node: row.node, createdAt: row.created_at };
}

export class SqliteCatalogStore implements CatalogStore {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      list: db.prepare<[], Row>('SELECT * FROM catalog_items ORDER BY created_at DESC, rowid DESC'),
      get: db.prepare<[string], Row>('SELECT * FROM catalog_items WHERE id = ?'),
      insert: db.prepare('INSERT INTO catalog_items (id, name, host_path, container_id, node, created_at) VALUES (?, ?, ?, NULL, ?, ?)'),
      remove: db.prepare('DELETE FROM catalog_items WHERE id = ?'),
      setContainer: db.prepare('UPDATE catalog_items SET container_id = ? WHERE id = ?'),
    };
  }

  list(): CatalogItem[] {
    return this.statements.list.all().map(fromRow);
  }

  get(id: string): CatalogItem | undefined {
    const row = this.statements.get.get(id);
    return row ? fromRow(row) : undefined;
  }

  add(item: { name: string; hostPath: string; node?: string | null }): CatalogItem {
    const created: CatalogItem = {
      id: randomUUID(),
      name: item.name,
      hostPath: item.hostPath,
      containerId: null,
      node: item.node ?? null,
      createdAt: new Date().toISOString(),
    };
    try {
      this.statements.insert.run(created.id, created.name, created.hostPath, created.node, created.createdAt);
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new KaiError('CONFLICT', `A catalog item named "${item.name}" already exists`, {
          fields: [{ field: 'body.name', message: 'is already taken' }],
        });
      }
      throw error;
    }
    return created;
  }

  remove(id: string): boolean {
    return this.statements.remove.run(id).changes > 0;
  }

  setContainer(id: string, containerId: string | null): void {
    this.statements.setContainer.run(containerId, id);
  }
}
