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
import { dockerClient } from '../../src/runtime/docker/client.js';
import { createRuntime } from '../../src/runtime/index.js';
import { removeInstance } from './docker.js';
import { removeSwarmInstance } from './swarm.js';

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
  /** The first admin's credentials. */
  admin: { username: string; password: string; token: string };
  /** As the admin, with a bearer token. Pass `authorization: ''` in headers to send none. */
  request(method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** With no credentials at all. */
  anonymous(method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Logs in and returns a session token. */
  login(username: string, password: string): Promise<{ token: string; csrfToken: string; cookie: string }>;
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
  const sent = Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== ''));
  const init: RequestInit = { method, headers: sent };
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
export interface StartOptions {
  /** Receives Kai's JSON log lines (the level comes from KAI_LOG_LEVEL, silent by default). */
  logStream?: { write(line: string): void };
  /** Receives the first-admin announcement (a generated password). */
  announce?: (text: string) => void;
  /** Keep this data dir (for restart tests); otherwise a fresh one. */
  dataDir?: string;
}

export async function startKai(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestKai> {
  const id = uniqueId();
  const instance = `test-${id}`;
  const hostRoot = realpathSync(mkdtempSync(path.join(tmpdir(), 'kai-root-')));
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'kai-data-'));
  const adminPassword = `pw-${uniqueId()}-${uniqueId()}`;
  const config = loadConfig({
    KAI_ADMIN_USERNAME: 'admin',
    KAI_ADMIN_PASSWORD: adminPassword,
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
  const logger = options.logStream ? pino({ level: config.logLevel }, options.logStream) : pino({ level: config.logLevel });
  const db = openDatabase(config.dataDir);
  const runtime = createRuntime(config, logger);
  const app = await buildApp({ config, runtime, db, logger, announce: options.announce ?? (() => undefined) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  const login = async (username: string, password: string) => {
    const response = await apiRequest(url, 'POST', '/api/auth/login', { username, password });
    if (response.status !== 200) throw new Error(`login as ${username} failed: ${JSON.stringify(response.body)}`);
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    return { token: response.body.data.token as string, csrfToken: response.body.data.csrfToken as string, cookie };
  };
  const adminLogin = config.auth.adminPassword ?? adminPassword;
  const { token } = env.KAI_ADMIN_PASSWORD === '' ? { token: '' } : await login(config.auth.adminUsername, adminLogin);
  return {
    url,
    config,
    app,
    db,
    hostRoot,
    instance: config.instance,
    prefix: `kt-${id}`,
    admin: { username: config.auth.adminUsername, password: adminLogin, token },
    request: (method, route, body, headers) => apiRequest(url, method, route, body, { authorization: `Bearer ${token}`, ...headers }),
    anonymous: (method, route, body, headers) => apiRequest(url, method, route, body, headers),
    login,
    async close() {
      await app.close();
      db.close();
      // The instance and network from the configuration: a test may reuse another run's (a restart).
      if (config.runtime.kind === 'swarm') {
        await removeSwarmInstance(dockerClient(config.docker), config.instance, config.dockerNetwork);
      } else {
        await removeInstance(config.instance, config.dockerNetwork);
      }
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      rmSync(hostRoot, { recursive: true, force: true });
    },
  };
}
