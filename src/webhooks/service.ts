import { randomUUID } from 'node:crypto';
import { KaiError, validationError } from '../errors.js';
import type { KaiEvent, KaiEventType } from '../events/types.js';
import { newMessageId, newSecret } from './signing.js';
import type { DeliveryRecord, DeliveryStatus, WebhookRecord, WebhookStore } from './store.js';
import type { DeliveryWorker } from './worker.js';

export const PING_EVENT = 'webhook.ping';

export interface WebhookInput {
  url: string;
  events?: KaiEventType[] | null | undefined;
  description?: string | undefined;
  enabled?: boolean | undefined;
}

export interface WebhookPatch {
  url?: string | undefined;
  events?: KaiEventType[] | null | undefined;
  description?: string | undefined;
  enabled?: boolean | undefined;
  rotateSecret?: boolean | undefined;
}

/** What the API shows of an endpoint: everything but the secret. */
export type WebhookView = Omit<WebhookRecord, 'secret'>;

export type DeliveryView = Omit<DeliveryRecord, 'payload' | 'nextAttemptAt'> & { nextAttemptAt: string | null };

function view({ secret: _secret, ...rest }: WebhookRecord): WebhookView {
  return rest;
}

function deliveryView({ payload: _payload, nextAttemptAt, ...rest }: DeliveryRecord): DeliveryView {
  return { ...rest, nextAttemptAt: nextAttemptAt === null ? null : new Date(nextAttemptAt).toISOString() };
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw validationError('body.url', 'must be an absolute http:// or https:// URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw validationError('body.url', 'must use http or https');
  return parsed.toString();
}

function notFound(id: string): KaiError {
  return new KaiError('NOT_FOUND', `No webhook "${id}"`, { id });
}

/** The delivery body: `{type, timestamp, data}`, serialized once so every attempt signs the same bytes. */
function body(type: string, timestamp: string, data: unknown): string {
  return JSON.stringify({ type, timestamp, data });
}

/** Webhook endpoints (admin settings) and turning events into outbox rows. */
export class WebhookService {
  constructor(
    private readonly store: WebhookStore,
    private readonly worker: DeliveryWorker,
  ) {}

  list(): WebhookView[] {
    return this.store.list().map(view);
  }

  get(id: string): WebhookView {
    return view(this.find(id));
  }

  create(input: WebhookInput): WebhookView & { secret: string } {
    const at = new Date().toISOString();
    const record: WebhookRecord = {
      id: randomUUID(),
      url: checkUrl(input.url),
      description: input.description ?? '',
      events: input.events ?? null,
      enabled: input.enabled ?? true,
      secret: newSecret(),
      disabledReason: null,
      createdAt: at,
      updatedAt: at,
    };
    this.store.insert(record);
    return { ...view(record), secret: record.secret };
  }

  update(id: string, patch: WebhookPatch): WebhookView & { secret?: string } {
    const current = this.find(id);
    const next: WebhookRecord = {
      ...current,
      ...(patch.url !== undefined ? { url: checkUrl(patch.url) } : {}),
      ...(patch.events !== undefined ? { events: patch.events } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled, disabledReason: patch.enabled ? null : 'Disabled by an admin' } : {}),
      ...(patch.rotateSecret ? { secret: newSecret() } : {}),
      updatedAt: new Date().toISOString(),
    };
    this.store.update(next);
    // Re-enabled: its held deliveries are due again.
    if (next.enabled && !current.enabled) this.worker.kick();
    return patch.rotateSecret ? { ...view(next), secret: next.secret } : view(next);
  }

  delete(id: string): void {
    if (!this.store.delete(id)) throw notFound(id);
  }

  /** Queues a ping to one endpoint and waits for its first attempt (at most a little over the attempt timeout). */
  async test(id: string, waitMs: number): Promise<DeliveryView> {
    const webhook = this.find(id);
    if (!webhook.enabled) throw new KaiError('CONFLICT', 'This webhook is disabled; enable it first', { id });
    const deliveryId = newMessageId();
    const timestamp = new Date().toISOString();
    this.store.enqueue([{ id: deliveryId, webhookId: id, eventType: PING_EVENT, eventId: null, payload: body(PING_EVENT, timestamp, { webhookId: id, message: 'Test event from Kai' }) }]);
    const attempted = this.worker.waitForAttempt(deliveryId, waitMs);
    this.worker.kick();
    await attempted;
    return deliveryView(this.store.delivery(deliveryId)!);
  }

  deliveries(id: string, filter: { status?: DeliveryStatus | undefined; limit: number }): DeliveryView[] {
    this.find(id);
    return this.store.deliveries(id, filter).map(deliveryView);
  }

  /** Records one event for every enabled endpoint that wants it, on disk before this returns. */
  record(event: KaiEvent): void {
    const { id, type, timestamp, ...data } = event;
    const payload = body(type, timestamp, { eventId: id, ...data });
    const targets = this.store.list().filter((w) => w.enabled && (w.events === null || w.events.includes(type)));
    this.store.enqueue(targets.map((w) => ({ id: newMessageId(), webhookId: w.id, eventType: type, eventId: id, payload })));
    if (targets.length > 0) this.worker.kick();
  }

  private find(id: string): WebhookRecord {
    const record = this.store.get(id);
    if (!record) throw notFound(id);
    return record;
  }
}
