import { randomBytes } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { removeInstance } from './docker.js';

/** The tiny image that images/busybox/build.sh makes; tests never pull. */
export const TEST_IMAGE = process.env.KAI_TEST_IMAGE ?? 'kai-test-busybox:latest';
export const FLEXY_IMAGE = process.env.KAI_FLEXY_IMAGE ?? 'flexy-dev-sandbox:latest';

export interface TestKai {
  url: string;
  config: Config;
  app: FastifyInstance;
  db: Database.Database;
  /** Real path of this run's KAI_HOST_ROOT, a fresh temporary folder. */
  hostRoot: string;
  instance: string;
  /** Unique prefix for container names made by this run. */
  prefix: string;
  request(method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export function uniqueId(): string {
  return randomBytes(4).toString('hex');
}

export async function apiRequest(
  baseUrl: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${route}`, init);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: left as text so the assertion shows it
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/**
 * A real Kai on a random 127.0.0.1 port, with its own engine labels, network,
 * data dir and host root. close() removes every container and the network it made.
 */
export async function startKai(env: Record<string, string> = {}): Promise<TestKai> {
  const id = uniqueId();
  const instance = `test-${id}`;
  const hostRoot = realpathSync(mkdtempSync(path.join(tmpdir(), 'kai-root-')));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kai-data-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    IMAGE_NAME: TEST_IMAGE,
    DOCKER_NETWORK: `kai-test-${id}`,
    KAI_DATA_DIR: dataDir,
    KAI_HOST_ROOT: hostRoot,
    KAI_PULL_POLICY: 'never',
    KAI_INSTANCE: instance,
    KAI_LOG_LEVEL: 'silent',
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    ...env,
  });
  const logger = pino({ level: config.logLevel });
  const db = openDatabase(config.dataDir);
  const runtime = new DockerRuntime({
    endpoint: config.docker,
    network: config.dockerNetwork,
    instance: config.instance,
    pullPolicy: config.pullPolicy,
    logger,
  });
  const app = await buildApp({ config, runtime, db, logger });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    config,
    app,
    db,
    hostRoot,
    instance,
    prefix: `kt-${id}`,
    request: (method, route, body, headers) => apiRequest(url, method, route, body, headers),
    async close() {
      await app.close();
      db.close();
      await removeInstance(instance, config.dockerNetwork);
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(hostRoot, { recursive: true, force: true });
    },
  };
}
