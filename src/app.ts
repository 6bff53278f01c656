import helmet from '@fastify/helmet';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { ensureFirstAdmin } from './auth/bootstrap.js';
import { registerAuth } from './auth/index.js';
import { AuthStore } from './auth/store.js';
import { CatalogLauncher } from './catalog/launch.js';
import { catalogRoutes } from './catalog/routes.js';
import { SqliteCatalogStore } from './catalog/store.js';
import type { Config } from './config.js';
import { registerLiveState } from './events/index.js';
import { flexyRoutes } from './flexy/routes.js';
import { FlexyService } from './flexy/service.js';
import { hostRoutes } from './host/routes.js';
import { nodeRoutes } from './nodes/routes.js';
import { failure } from './http/envelope.js';
import { clientErrorHandler } from './http/client-errors.js';
import { registerErrorHandling } from './http/error-handler.js';
import { registerJsonParser } from './http/json-parser.js';
import { registerOpenApi } from './http/openapi.js';
import { validatorCompiler } from './http/validation.js';
import type { Runtime } from './runtime/types.js';
import { linkRoutes } from './shell/link-routes.js';
import { proxyRoutes } from './shell/proxy-routes.js';
import { TerminalManager } from './shell/terminal-manager.js';
import { terminalRoutes } from './shell/terminal-routes.js';
import { systemRoutes } from './system/routes.js';
import { KAI_VERSION } from './version.js';
import { webRoutes } from './web/static.js';
import { registerWebhooks } from './webhooks/index.js';

export interface AppDependencies {
  config: Config;
  runtime: Runtime;
  db: Database.Database;
  logger: Logger;
  /** Where the generated first admin password is printed; stderr by default. */
  announce?: (text: string) => void;
}

/** Bodies are small JSON documents; anything bigger is a mistake or an attack. */
const BODY_LIMIT_BYTES = 256 * 1024;

/** Builds the HTTP app from its collaborators; main() and the tests both use it. */
export async function buildApp({ config, runtime, db, logger, announce = (text) => process.stderr.write(text) }: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is what Fastify logs with; the cast only bridges the two packages' type names.
    loggerInstance: logger as unknown as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy,
    // Container ids are 64 characters; names and prefixes fit well inside this.
    routerOptions: { maxParamLength: 200 },
    // A client that never finishes its request does not hold a connection forever.
    requestTimeout: 60_000,
    clientErrorHandler,
    // Malformed URLs and the like: answered in the envelope like every other client error.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(400).send(failure('VALIDATION_ERROR', 'Invalid request: url is malformed', { fields: [{ field: 'url', message: error.message }] }));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  registerJsonParser(app);
  registerErrorHandling(app);
  await registerOpenApi(app, KAI_VERSION);
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      directives: {
        // The web console: same-origin scripts, styles (inline ones for Radix and xterm), fetch, SSE and WebSockets, and
        // iframes of the proxied sandbox shells. Kai often runs on plain http://localhost: no forced https upgrade.
        'connect-src': ["'self'"],
        'frame-src': ["'self'"],
        'upgrade-insecure-requests': null,
      },
    },
  });

  const authStore = new AuthStore(db);
  await ensureFirstAdmin(authStore, config.auth, logger, announce);
  // One onRequest guard for every route registered after this line, upgrades included.
  const { linkTokens } = await registerAuth(app, config, authStore);
  await app.register(websocket, { options: { maxPayload: 1024 * 1024, perMessageDeflate: false } });

  const flexy = new FlexyService(runtime, { hostRoot: config.hostRoot, defaultImage: config.imageName });
  const store = new SqliteCatalogStore(db);
  const launcher = new CatalogLauncher(store, flexy);

  const live = await registerLiveState(app, { config, runtime, logger, db });
  await registerWebhooks(app, { db, hub: live.hub, config, logger });
  await app.register(systemRoutes, { runtime, db, events: () => live.watcher.status() });
  await app.register(flexyRoutes, { flexy });
  await app.register(catalogRoutes, { store, flexy, launcher });
  await app.register(hostRoutes, { hostRoot: config.hostRoot });
  await app.register(nodeRoutes, { runtime });

  const terminals = new TerminalManager(runtime, { graceSeconds: config.shell.terminalGraceSeconds, bufferBytes: config.shell.terminalBufferBytes }, logger);
  app.addHook('onClose', async () => terminals.closeAll());
  await app.register(terminalRoutes, { runtime, terminals });
  await app.register(linkRoutes, { runtime, linkTokens });
  await app.register(proxyRoutes, { runtime });
  await app.register(webRoutes);
  return app;
}
