import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type Database from 'better-sqlite3';
import { KaiError } from '../errors.js';
import { LATEST_VERSION, schemaVersion } from '../db/migrations.js';
import { ok, responses } from '../http/envelope.js';
import { StringEnum } from '../http/schema-helpers.js';
import type { WatcherStatus } from '../events/watcher.js';
import type { Runtime } from '../runtime/types.js';

const ServiceState = StringEnum(['healthy', 'unhealthy']);

const HealthSchema = Type.Object({
  status: ServiceState,
  timestamp: Type.String({ format: 'date-time' }),
  services: Type.Object({ api: ServiceState, docker: ServiceState, database: ServiceState }),
  events: Type.Optional(
    Type.Object(
      {
        state: StringEnum(['connecting', 'connected', 'disconnected', 'stopped']),
        since: Type.String({ format: 'date-time' }),
        lastError: Type.Union([Type.String(), Type.Null()]),
        reconnects: Type.Integer(),
      },
      { description: "Kai's subscription to the engine's events (live state, webhooks)" },
    ),
  ),
});

const ReadySchema = Type.Object({ ready: Type.Boolean(), timestamp: Type.String({ format: 'date-time' }) });

export interface SystemRoutesOptions {
  runtime: Runtime;
  db: Database.Database;
  /** The engine-event subscription's state, reported beside the services. */
  events?: () => WatcherStatus;
}

async function passes(check: () => unknown): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

const state = (healthy: boolean) => (healthy ? 'healthy' : 'unhealthy') as 'healthy' | 'unhealthy';

export const systemRoutes: FastifyPluginAsyncTypebox<SystemRoutesOptions> = async (app, { runtime, db, events }) => {
  const databaseAnswers = () => db.prepare('SELECT 1').get();

  app.get(
    '/api/health',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary: 'Checks the engine (ping) and the database (a query) for real; 503 names what failed',
        response: responses(200, HealthSchema),
      },
    },
    async () => {
      const [docker, database] = await Promise.all([passes(() => runtime.ping()), passes(databaseAnswers)]);
      const data = {
        status: state(docker && database),
        timestamp: new Date().toISOString(),
        services: { api: state(true), docker: state(docker), database: state(database) },
        ...(events ? { events: events() } : {}),
      };
      if (docker && database) return ok(data, 'Health check passed');
      const failed = [docker ? null : 'docker', database ? null : 'database'].filter(Boolean).join(', ');
      throw new KaiError(docker ? 'INTERNAL_ERROR' : 'DOCKER_ERROR', `Health check failed: ${failed}`, data, 503);
    },
  );

  app.get(
    '/api/ready',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary: 'Ready when the database schema is current and the engine answers',
        response: responses(200, ReadySchema),
      },
    },
    async () => {
      const migrated = await passes(() => {
        if (schemaVersion(db) !== LATEST_VERSION) throw new Error('schema behind');
      });
      const docker = await passes(() => runtime.ping());
      const timestamp = new Date().toISOString();
      if (migrated && docker) return ok({ ready: true, timestamp }, 'System is ready');
      throw new KaiError(docker ? 'INTERNAL_ERROR' : 'DOCKER_ERROR', `System is not ready: ${docker ? 'database migrations pending' : 'Docker engine not reachable'}`, {
        ready: false,
        timestamp,
        checks: { migrations: migrated, docker },
      }, 503);
    },
  );
};
