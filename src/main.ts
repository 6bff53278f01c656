import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db/open.js';
import { createLogger } from './logger.js';
import { createRuntime } from './runtime/index.js';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`kai: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config.logLevel);
  const db = openDatabase(config.dataDir);
  const runtime = createRuntime(config, logger);

  try {
    await runtime.prepare();
  } catch (error) {
    // Kai still serves the catalog, host browsing and health; container routes recover when the engine returns.
    logger.warn({ msg: (error as Error).message }, 'Docker engine not ready at start');
  }

  const app = await buildApp({ config, runtime, db, logger });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    await app.close();
    await runtime.close();
    db.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  await app.listen({ port: config.port, host: config.host });
  logger.info(
    { url: `http://${config.host}:${app.server.address() && typeof app.server.address() === 'object' ? (app.server.address() as { port: number }).port : config.port}`, hostRoot: config.hostRoot, dataDir: config.dataDir, image: config.imageName },
    'Kai is listening',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`kai: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
