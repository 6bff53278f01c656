import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { KaiError } from '../errors.js';

export type Role = 'admin' | 'viewer';
export const ROLES = ['admin', 'viewer'] as const;

export interface User {
  username: string;
  role: Role;
  createdAt: string;
  updatedAt: string;
}

export interface Session {
  id: string;
  username: string;
  csrfToken: string;
  expiresAt: string;
}

export interface ApiToken {
  id: string;
  name: string;
  username: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

/** Who a credential belongs to, as the guard resolved it. */
export interface Principal {
  username: string;
  role: Role;
  via: 'session' | 'api-token';
  sessionId?: string;
  csrfToken?: string;
}

export const API_TOKEN_PREFIX = 'kai_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

interface UserRow {
  username: string;
  role: Role;
  password_hash: string;
  created_at: string;
  updated_at: string;
}

const toUser = (row: UserRow): User => ({ username: row.username, role: row.role, createdAt: row.created_at, updatedAt: row.updated_at });

/** Users, sessions and API tokens in Kai's SQLite database. */
export class AuthStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      countUsers: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users'),
      countAdmins: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM users WHERE role = 'admin'"),
      listUsers: db.prepare<[], UserRow>('SELECT * FROM users ORDER BY username'),
      getUser: db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
      insertUser: db.prepare('INSERT INTO users (username, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
      deleteUser: db.prepare('DELETE FROM users WHERE username = ?'),
      setPassword: db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ?'),
      insertSession: db.prepare('INSERT INTO sessions (id, username, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
      sessionPrincipal: db.prepare<[string, string], { username: string; role: Role; csrf_token: string }>(
        `SELECT s.username, u.role, s.csrf_token FROM sessions s JOIN users u ON u.username = s.username
         WHERE s.id = ? AND s.revoked_at IS NULL AND s.expires_at > ?`,
      ),
      revokeSession: db.prepare('UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      revokeOtherSessions: db.prepare('UPDATE sessions SET revoked_at = ? WHERE username = ? AND id != ? AND revoked_at IS NULL'),
      purgeSessions: db.prepare('DELETE FROM sessions WHERE expires_at < ?'),
      insertToken: db.prepare(
        'INSERT INTO api_tokens (id, name, username, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      listTokens: db.prepare<[string], { id: string; name: string; username: string; created_at: string; expires_at: string | null; last_used_at: string | null }>(
        'SELECT id, name, username, created_at, expires_at, last_used_at FROM api_tokens WHERE username = ? AND revoked_at IS NULL ORDER BY created_at DESC',
      ),
      tokenPrincipal: db.prepare<[string, string], { id: string; username: string; role: Role }>(
        `SELECT t.id, t.username, u.role FROM api_tokens t JOIN users u ON u.username = t.username
         WHERE t.token_hash = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)`,
      ),
      touchToken: db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?'),
      revokeToken: db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND username = ? AND revoked_at IS NULL'),
    };
  }

  userCount(): number {
    return this.s.countUsers.get()?.n ?? 0;
  }

  listUsers(): User[] {
    return this.s.listUsers.all().map(toUser);
  }

  getUser(username: string): (User & { passwordHash: string }) | undefined {
    const row = this.s.getUser.get(username);
    return row ? { ...toUser(row), passwordHash: row.password_hash } : undefined;
  }

  createUser(username: string, role: Role, passwordHash: string): User {
    const now = new Date().toISOString();
    try {
      this.s.insertUser.run(username, role, passwordHash, now, now);
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new KaiError('CONFLICT', `A user named "${username}" already exists`, { fields: [{ field: 'body.username', message: 'is already taken' }] });
      }
      throw error;
    }
    return { username, role, createdAt: now, updatedAt: now };
  }

  /** Deletes a user with their sessions and tokens; the last admin cannot go. */
  deleteUser(username: string): boolean {
    return this.db.transaction(() => {
      const user = this.s.getUser.get(username);
      if (!user) return false;
      if (user.role === 'admin' && (this.s.countAdmins.get()?.n ?? 0) <= 1) {
        throw new KaiError('CONFLICT', 'The last admin cannot be deleted', { username });
      }
      this.s.deleteUser.run(username);
      return true;
    })();
  }

  setPassword(username: string, passwordHash: string, keepSessionId: string | null): void {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.s.setPassword.run(passwordHash, now, username);
      this.s.revokeOtherSessions.run(now, username, keepSessionId ?? '');
    })();
  }

  createSession(username: string, ttlSeconds: number): Session {
    const now = new Date();
    const session: Session = {
      id: randomUUID(),
      username,
      csrfToken: randomBytes(24).toString('base64url'),
      expiresAt: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
    };
    this.s.purgeSessions.run(now.toISOString());
    this.s.insertSession.run(session.id, username, session.csrfToken, now.toISOString(), session.expiresAt);
    return session;
  }

  sessionPrincipal(sessionId: string): Principal | undefined {
    const row = this.s.sessionPrincipal.get(sessionId, new Date().toISOString());
    return row ? { username: row.username, role: row.role, via: 'session', sessionId, csrfToken: row.csrf_token } : undefined;
  }

  revokeSession(sessionId: string): void {
    this.s.revokeSession.run(new Date().toISOString(), sessionId);
  }

  createApiToken(username: string, name: string, expiresAt: string | null): { token: string; record: ApiToken } {
    const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record: ApiToken = { id: randomUUID(), name, username, createdAt: new Date().toISOString(), expiresAt, lastUsedAt: null };
    this.s.insertToken.run(record.id, name, username, hashToken(token), record.createdAt, expiresAt);
    return { token, record };
  }

  listApiTokens(username: string): ApiToken[] {
    return this.s.listTokens.all(username).map((row) => ({
      id: row.id,
      name: row.name,
      username: row.username,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      lastUsedAt: row.last_used_at,
    }));
  }

  apiTokenPrincipal(token: string): Principal | undefined {
    const row = this.s.tokenPrincipal.get(hashToken(token), new Date().toISOString());
    if (!row) return undefined;
    this.s.touchToken.run(new Date().toISOString(), row.id);
    return { username: row.username, role: row.role, via: 'api-token' };
  }

  revokeApiToken(id: string, username: string): boolean {
    return this.s.revokeToken.run(new Date().toISOString(), id, username).changes > 0;
  }
}
