/**
 * API types, taken from the server's TypeBox schemas (type-only imports: nothing
 * from src/ reaches the bundle), so the console and the API cannot drift apart.
 */
import type { Static } from '@sinclair/typebox';
import type { LoginResult, MeResult, TokenRecord, CreatedToken, UserSchema } from '../../src/auth/schemas.js';
import type { AddBody, CatalogItemSchema, LaunchResultSchema } from '../../src/catalog/routes.js';
import type { CreateBody, FlexyDetailsSchema, FlexySummarySchema, ListResult, FLEXY_STATUSES } from '../../src/flexy/schemas.js';
import type { ListingSchema } from '../../src/host/routes.js';
import type { NodeSchema } from '../../src/nodes/routes.js';
import type { ErrorEnvelope } from '../../src/http/envelope.js';
import type { KaiEventSchema, LogLineSchema, LogsResult, StatsSchema } from '../../src/events/schemas.js';
import type { DeliverySchema, WebhookMaybeSecret } from '../../src/webhooks/schemas.js';

export type FlexySummary = Static<typeof FlexySummarySchema>;
export type FlexyDetails = Static<typeof FlexyDetailsSchema>;
export type FlexyList = Static<typeof ListResult>;
export type FlexyStatus = (typeof FLEXY_STATUSES)[number];
export type CreateFlexy = Static<typeof CreateBody>;
export type CatalogItem = Static<typeof CatalogItemSchema>;
export type AddCatalogItem = Static<typeof AddBody>;
export type LaunchResult = Static<typeof LaunchResultSchema>;
export type DirectoryListing = Static<typeof ListingSchema>;
export type ClusterNode = Static<typeof NodeSchema>;
export type Login = Static<typeof LoginResult>;
export type Me = Static<typeof MeResult>;
export type User = Static<typeof UserSchema>;
export type ApiToken = Static<typeof TokenRecord>;
export type NewApiToken = Static<typeof CreatedToken>;
export type ErrorBody = Static<typeof ErrorEnvelope>['error'];

export type KaiEvent = Static<typeof KaiEventSchema>;
export type LogLine = Static<typeof LogLineSchema>;
export type Logs = Static<typeof LogsResult>;
export type Stats = Static<typeof StatsSchema>;
export type Webhook = Static<typeof WebhookMaybeSecret>;
export type WebhookDelivery = Static<typeof DeliverySchema>;
