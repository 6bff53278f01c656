/**
 * API types, taken from the server's TypeBox schemas (type-only imports: nothing
 * from src/ reaches the bundle), so the console and the API cannot drift apart.
 */
import type { Static } from '@sinclair/typebox';
import type { LoginResult, MeResult, TokenRecord, CreatedToken, UserSchema } from '../../src/auth/schemas.js';
import type { AddBody, CatalogItemSchema, LaunchResultSchema } from '../../src/catalog/routes.js';
import type { CreateBody, FlexyDetailsSchema, FlexySummarySchema, ListResult, FLEXY_STATUSES } from '../../src/flexy/schemas.js';
import type { ListingSchema } from '../../src/host/routes.js';
import type { ErrorEnvelope } from '../../src/http/envelope.js';

export type FlexySummary = Static<typeof FlexySummarySchema>;
export type FlexyDetails = Static<typeof FlexyDetailsSchema>;
export type FlexyList = Static<typeof ListResult>;
export type FlexyStatus = (typeof FLEXY_STATUSES)[number];
export type CreateFlexy = Static<typeof CreateBody>;
export type CatalogItem = Static<typeof CatalogItemSchema>;
export type AddCatalogItem = Static<typeof AddBody>;
export type LaunchResult = Static<typeof LaunchResultSchema>;
export type DirectoryListing = Static<typeof ListingSchema>;
export type Login = Static<typeof LoginResult>;
export type Me = Static<typeof MeResult>;
export type User = Static<typeof UserSchema>;
export type ApiToken = Static<typeof TokenRecord>;
export type NewApiToken = Static<typeof CreatedToken>;
export type ErrorBody = Static<typeof ErrorEnvelope>['error'];

/**
 * Events and webhooks (issue 5) are still being built next door; the console only
 * relies on these few fields and degrades to "not available" when the routes 404.
 */
export interface KaiEvent {
  id: string;
  type: string;
  timestamp: string;
  container: FlexySummary;
}

export interface Webhook {
  id: string;
  url: string;
  description: string;
  events: string[] | null;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: string;
  secret?: string;
}

export interface WebhookDelivery {
  id: string;
  eventType: string;
  status: string;
  attempts: number;
  [key: string]: unknown;
}
