import { Type } from '@sinclair/typebox';
import { KaiEventTypeSchema } from '../events/schemas.js';
import { Nullable, StringEnum } from '../http/schema-helpers.js';

const Url = Type.String({ minLength: 1, maxLength: 2048, pattern: '^[hH][tT][tT][pP][sS]?://[^\\s]+$', 'x-message': 'must be an http:// or https:// URL' });
const Events = Nullable(
  Type.Array(KaiEventTypeSchema, { minItems: 1, maxItems: 32, uniqueItems: true, description: 'Event types to send; null or absent: all of them' }),
);
const Description = Type.String({ maxLength: 500 });

export const WebhookSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Type.String(),
  events: Events,
  enabled: Type.Boolean(),
  disabledReason: Nullable(Type.String({ description: 'Why it is disabled: by an admin, or the endpoint answered 410 Gone' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const Secret = Type.String({ description: 'The whsec_… signing secret; shown only here', pattern: '^whsec_' });

export const WebhookWithSecret = Type.Object({ ...WebhookSchema.properties, secret: Secret });
export const WebhookMaybeSecret = Type.Object({ ...WebhookSchema.properties, secret: Type.Optional(Secret) });

export const CreateWebhookBody = Type.Object(
  {
    url: Url,
    events: Type.Optional(Events),
    description: Type.Optional(Description),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);

export const PatchWebhookBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    description: Type.Optional(Description),
    enabled: Type.Optional(Type.Boolean({ description: 'true also re-enables an endpoint disabled by a 410' })),
    rotateSecret: Type.Optional(Type.Boolean({ description: 'Replace the signing secret; the answer shows the new one, once' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const WebhookParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const WebhookList = Type.Object({ webhooks: Type.Array(WebhookSchema) });

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;

export const DeliverySchema = Type.Object({
  id: Type.String({ description: 'The webhook-id header, the same on every attempt' }),
  webhookId: Type.String(),
  eventType: Type.String(),
  eventId: Nullable(Type.String()),
  status: StringEnum(DELIVERY_STATUSES),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Type.String({ format: 'date-time' })),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  lastDurationMs: Nullable(Type.Integer()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  completedAt: Nullable(Type.String({ format: 'date-time' })),
});

export const DeliveriesQuery = Type.Object(
  {
    status: Type.Optional(StringEnum(DELIVERY_STATUSES)),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  },
  { additionalProperties: false },
);

export const DeliveryList = Type.Object({ deliveries: Type.Array(DeliverySchema) });
export const DeleteWebhookResult = Type.Object({ id: Type.String() });
export const TestResult = Type.Object({ delivery: DeliverySchema });
