import type Database from 'better-sqlite3';
import type { KaiEventType } from '../events/types.js';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** A webhook endpoint as stored; `secret` never leaves Kai except when created or rotated. */
export interface WebhookRecord {
  id: string;
  url: string;
  description: string;
  /** null: every event type. */
  events: KaiEventType[] | null;
  enabled: boolean;
  secret: string;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DeliveryRecord {
  /** The `webhook-id` header: the same on every attempt. */
  id: string;
  webhookId: string;
  eventType: string;
  eventId: string | null;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  /** ms since the epoch; null once finished. */
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  lastDurationMs: number | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

/** A due delivery with what the worker needs to send it. */
export interface DueDelivery extends DeliveryRecord {
  url: string;
  secret: string;
}

export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

interface WebhookRow {
  id: string;
  url: string;
  description: string;
  events: string | null;
  enabled: number;
  secret: string;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_type: string;
  event_id: string | null;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  url?: string;
  secret?: string;
}

function toWebhook(row: WebhookRow): WebhookRecord {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events === null ? null : (JSON.parse(row.events) as KaiEventType[]),
    enabled: row.enabled === 1,
    secret: row.secret,
    disabledReason: row.disabled_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toDelivery(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventType: row.event_type,
    eventId: row.event_id,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    lastDurationMs: row.last_duration_ms,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
  };
}

const now = () => new Date().toISOString();

/**
 * Webhook endpoints and the delivery outbox in SQLite. Every write is
 * committed (synchronous=FULL) before the caller goes on, so a recorded
 * delivery survives a crash and is picked up again at start.
 */
export class WebhookStore {
  constructor(private readonly db: Database.Database) {}

  list(): WebhookRecord[] {
    return (this.db.prepare('SELECT * FROM webhooks ORDER BY created_at DESC, rowid DESC').all() as WebhookRow[]).map(toWebhook);
  }

  get(id: string): WebhookRecord | undefined {
    const row = this.db.prepare('SELECT * FROM webhooks WHERE id = ?').get(id) as WebhookRow | undefined;
    return row ? toWebhook(row) : undefined;
  }

  insert(webhook: WebhookRecord): void {
    this.db
      .prepare(
        `INSERT INTO webhooks (id, url, description, events, enabled, secret, disabled_reason, created_at, updated_at)
         VALUES (@id, @url, @description, @events, @enabled, @secret, @disabledReason, @createdAt, @updatedAt)`,
      )
      .run({ ...webhook, events: webhook.events === null ? null : JSON.stringify(webhook.events), enabled: webhook.enabled ? 1 : 0 });
  }

  update(webhook: WebhookRecord): void {
    this.db
      .prepare(
        `UPDATE webhooks SET url = @url, description = @description, events = @events, enabled = @enabled, secret = @secret,
         disabled_reason = @disabledReason, updated_at = @updatedAt WHERE id = @id`,
      )
      .run({ ...webhook, events: webhook.events === null ? null : JSON.stringify(webhook.events), enabled: webhook.enabled ? 1 : 0 });
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM webhooks WHERE id = ?').run(id).changes > 0;
  }

  disable(id: string, reason: string): void {
    this.db.prepare('UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ?').run(reason, now(), id);
  }

  /** Records deliveries in one transaction: all of them are on disk, or none. */
  enqueue(deliveries: Array<Pick<DeliveryRecord, 'id' | 'webhookId' | 'eventType' | 'eventId' | 'payload'>>): void {
    if (deliveries.length === 0) return;
    const insert = this.db.prepare(
      `INSERT INTO webhook_deliveries (id, webhook_id, event_type, event_id, payload, status, attempts, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)`,
    );
    const at = now();
    const due = Date.now();
    this.db.transaction(() => {
      for (const d of deliveries) insert.run(d.id, d.webhookId, d.eventType, d.eventId, d.payload, due, at, at);
    })();
  }

  delivery(id: string): DeliveryRecord | undefined {
    const row = this.db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
    return row ? toDelivery(row) : undefined;
  }

  deliveries(webhookId: string, filter: { status?: DeliveryStatus | undefined; limit: number }): DeliveryRecord[] {
    const rows = filter.status
      ? this.db.prepare('SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND status = ? ORDER BY rowid DESC LIMIT ?').all(webhookId, filter.status, filter.limit)
      : this.db.prepare('SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY rowid DESC LIMIT ?').all(webhookId, filter.limit);
    return (rows as DeliveryRow[]).map(toDelivery);
  }

  /** Pending deliveries of enabled endpoints that are due, oldest first. */
  due(at: number, limit: number): DueDelivery[] {
    const rows = this.db
      .prepare(
        `SELECT d.*, w.url AS url, w.secret AS secret FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.status = 'pending' AND w.enabled = 1 AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.rowid LIMIT ?`,
      )
      .all(at, limit) as DeliveryRow[];
    return rows.map((row) => ({ ...toDelivery(row), url: row.url ?? '', secret: row.secret ?? '' }));
  }

  /** The earliest pending deliveries of enabled endpoints, by due time (ids and times only). */
  upcoming(limit: number): Array<{ id: string; nextAttemptAt: number }> {
    return this.db
      .prepare(
        `SELECT d.id AS id, d.next_attempt_at AS nextAttemptAt FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.status = 'pending' AND w.enabled = 1 ORDER BY d.next_attempt_at, d.rowid LIMIT ?`,
      )
      .all(limit) as Array<{ id: string; nextAttemptAt: number }>;
  }

  /** One attempt's outcome: finished (succeeded or failed) or pending again at `nextAttemptAt`. */
  recordAttempt(id: string, result: AttemptResult, outcome: { status: DeliveryStatus; nextAttemptAt: number | null }): void {
    const at = now();
    this.db
      .prepare(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?, next_attempt_at = ?, last_status_code = ?, last_error = ?,
         last_duration_ms = ?, updated_at = ?, completed_at = ? WHERE id = ?`,
      )
      .run(outcome.status, outcome.nextAttemptAt, result.statusCode, result.error, Math.round(result.durationMs), at, outcome.status === 'pending' ? null : at, id);
  }

  /** Finished deliveries older than the cut-off are forgotten. */
  prune(olderThan: string): number {
    return this.db.prepare(`DELETE FROM webhook_deliveries WHERE status != 'pending' AND completed_at < ?`).run(olderThan).changes;
  }
}
