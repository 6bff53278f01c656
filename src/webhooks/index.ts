import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventHub } from '../events/hub.js';
import { webhookRoutes } from './routes.js';
import { WebhookService } from './service.js';
import { WebhookStore } from './store.js';
import { DeliveryWorker } from './worker.js';

/**
 * Signed, durable webhooks: every hub event is written to the outbox before
 * any live client sees it; the worker sends what is due from app start
 * (picking up what a previous run left) until app close.
 */
export async function registerWebhooks(
  app: FastifyInstance,
  { db, hub, config, logger }: { db: Database.Database; hub: EventHub; config: Config; logger: Logger },
): Promise<WebhookService> {
  const store = new WebhookStore(db);
  const worker = new DeliveryWorker(store, logger, { retryScheduleSeconds: config.webhooks.retryScheduleSeconds });
  const webhooks = new WebhookService(store, worker);
  hub.subscribe((event) => webhooks.record(event), { durable: true });
  app.addHook('onReady', async () => worker.start());
  app.addHook('onClose', async () => worker.stop());
  await app.register(webhookRoutes, { webhooks });
  return webhooks;
}
