import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ok, responses } from '../http/envelope.js';
import { optionalBody } from '../http/optional-body.js';
import {
  CreateWebhookBody,
  DeleteWebhookResult,
  DeliveriesQuery,
  DeliveryList,
  PatchWebhookBody,
  TestResult,
  WebhookList,
  WebhookMaybeSecret,
  WebhookParams,
  WebhookSchema,
  WebhookWithSecret,
} from './schemas.js';
import type { WebhookService } from './service.js';
import { ATTEMPT_TIMEOUT_MS } from './worker.js';

export interface WebhookRoutesOptions {
  webhooks: WebhookService;
}

const tags = ['webhooks'];
/** URLs and delivery history are sensitive: even reading them needs the admin role. */
const adminOnly = { access: 'admin' as const };

export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRoutesOptions> = async (app, { webhooks }) => {
  app.post(
    '/api/settings/webhooks',
    { schema: { tags, summary: 'Add a webhook endpoint; the answer holds its signing secret, shown only this once', body: CreateWebhookBody, response: responses(201, WebhookWithSecret) } },
    async (request, reply) => reply.code(201).send(ok(webhooks.create(request.body), 'Webhook created successfully')),
  );

  app.get(
    '/api/settings/webhooks',
    { config: adminOnly, schema: { tags, summary: 'List webhook endpoints (no secrets)', response: responses(200, WebhookList) } },
    async () => ok({ webhooks: webhooks.list() }, 'Webhooks retrieved successfully'),
  );

  app.get(
    '/api/settings/webhooks/:id',
    { config: adminOnly, schema: { tags, summary: 'One webhook endpoint (no secret)', params: WebhookParams, response: responses(200, WebhookSchema) } },
    async (request) => ok(webhooks.get(request.params.id), 'Webhook retrieved successfully'),
  );

  app.patch(
    '/api/settings/webhooks/:id',
    {
      schema: {
        tags,
        summary: 'Change a webhook endpoint; rotateSecret: true answers with the new secret',
        params: WebhookParams,
        body: PatchWebhookBody,
        response: responses(200, WebhookMaybeSecret),
      },
    },
    async (request) => ok(webhooks.update(request.params.id, request.body), 'Webhook updated successfully'),
  );

  app.delete(
    '/api/settings/webhooks/:id',
    { schema: { tags, summary: 'Remove a webhook endpoint and its delivery history', params: WebhookParams, response: responses(200, DeleteWebhookResult) } },
    async (request) => {
      webhooks.delete(request.params.id);
      return ok({ id: request.params.id }, 'Webhook deleted successfully');
    },
  );

  app.post(
    '/api/settings/webhooks/:id/test',
    {
      preValidation: optionalBody,
      schema: { tags, summary: 'Send a webhook.ping event now and answer with its first attempt', params: WebhookParams, response: responses(200, TestResult) },
    },
    async (request) => ok({ delivery: await webhooks.test(request.params.id, ATTEMPT_TIMEOUT_MS + 2_000) }, 'Test event sent'),
  );

  app.get(
    '/api/settings/webhooks/:id/deliveries',
    {
      config: adminOnly,
      schema: { tags, summary: 'Recent deliveries, newest first: attempts, status code, duration, next retry, last error', params: WebhookParams, querystring: DeliveriesQuery, response: responses(200, DeliveryList) },
    },
    async (request) => ok({ deliveries: webhooks.deliveries(request.params.id, request.query) }, 'Deliveries retrieved successfully'),
  );
};
