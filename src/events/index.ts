import type { FastifyInstance } from 'fastify';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Runtime } from '../runtime/types.js';
import { containerStreamRoutes } from './container-routes.js';
import { EventHub } from './hub.js';
import { eventRoutes } from './routes.js';
import { SseConnections } from './sse.js';
import { SqliteSnapshotStore } from './snapshot-store.js';
import { ContainerWatcher } from './watcher.js';

export interface LiveState {
  hub: EventHub;
  watcher: ContainerWatcher;
  sse: SseConnections;
}

/**
 * Live state: the engine-event watcher feeding the hub, the SSE event
 * stream, and container logs and stats. The watcher starts when the app is
 * ready; open streams end before the server closes, the watcher after.
 */
export async function registerLiveState(
  app: FastifyInstance,
  { config, runtime, logger, db }: { config: Config; runtime: Runtime; logger: Logger; db: Database.Database },
): Promise<LiveState> {
  const hub = new EventHub(config.events.historySize, (error) => logger.error({ err: error }, 'event listener failed'));
  const watcher = new ContainerWatcher(runtime, hub, logger, { snapshots: new SqliteSnapshotStore(db) });
  const sse = new SseConnections(config.events.heartbeatSeconds * 1000);
  app.addHook('onReady', async () => watcher.start());
  app.addHook('preClose', async () => sse.closeAll());
  app.addHook('onClose', async () => watcher.stop());
  await app.register(eventRoutes, { hub, sse });
  await app.register(containerStreamRoutes, { runtime, sse });
  return { hub, watcher, sse };
}
