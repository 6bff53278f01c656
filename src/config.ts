import { existsSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { envSchema } from 'env-schema';

/**
 * Seconds to wait after each failed webhook attempt: 8 attempts spread over
 * about 27 hours (immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
 */
const DEFAULT_RETRY_SCHEDULE = '5,300,1800,7200,18000,36000,36000';

/** Every variable Kai reads, with its default; README's configuration table mirrors this. */
const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9900 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  IMAGE_NAME: Type.String({ minLength: 1, pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.:/@-]*$', default: 'flexy-dev-sandbox:latest' }),
  DOCKER_NETWORK: Type.String({ pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$', default: 'kai-net' }),
  DOCKER_HOST: Type.Optional(Type.String({ pattern: '^(unix|tcp|http|https)://.+' })),
  DOCKER_CERT_PATH: Type.Optional(Type.String({ minLength: 1 })),
  DOCKER_TLS_VERIFY: Type.Optional(Type.String()),
  KAI_DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  KAI_HOST_ROOT: Type.Optional(Type.String({ minLength: 1 })),
  KAI_RUNTIME: Type.Union([Type.Literal('docker'), Type.Literal('swarm')], { default: 'docker' }),
  KAI_SWARM_NODE_ENGINES: Type.Optional(Type.String()),
  KAI_SWARM_NODE_ADDRESSES: Type.Optional(Type.String()),
  KAI_PULL_POLICY: Type.Union([Type.Literal('missing'), Type.Literal('never')], { default: 'missing' }),
  KAI_INSTANCE: Type.String({ pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$', default: 'default' }),
  KAI_ADMIN_USERNAME: Type.String({ pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.@-]{0,63}$', default: 'admin' }),
  KAI_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8, maxLength: 256 })),
  KAI_SESSION_TTL: Type.String({ pattern: '^[1-9][0-9]*(s|m|h|d)?$', default: '12h' }),
  KAI_JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  KAI_ALLOWED_ORIGINS: Type.Optional(Type.String()),
  KAI_TRUST_PROXY: Type.Optional(Type.String({ minLength: 1 })),
  KAI_LOGIN_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 10000, default: 10 }),
  KAI_LOGIN_WINDOW: Type.String({ pattern: '^[1-9][0-9]*(s|m|h|d)?$', default: '1m' }),
  KAI_SHELL_TARGET: Type.Union([Type.Literal('published'), Type.Literal('network')], { default: 'published' }),
  KAI_TERMINAL_GRACE: Type.String({ pattern: '^[0-9]+(s|m|h|d)?$', default: '5m' }),
  KAI_TERMINAL_BUFFER: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 262144 }),
  KAI_SSE_HEARTBEAT: Type.String({ pattern: '^[1-9][0-9]*(s|m)?$', default: '15s' }),
  KAI_EVENT_HISTORY: Type.Integer({ minimum: 10, maximum: 100000, default: 1000 }),
  KAI_WEBHOOK_RETRY_SCHEDULE: Type.String({ pattern: '^[0-9]{1,6}(,[0-9]{1,6}){0,19}$', default: DEFAULT_RETRY_SCHEDULE }),
  KAI_LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
});

type Env = Static<typeof EnvSchema>;

export type DockerEndpoint =
  | { kind: 'socket'; socketPath: string; label: string }
  | { kind: 'tcp'; protocol: 'http' | 'https'; host: string; port: number; certPath?: string; label: string };

export interface Config {
  port: number;
  host: string;
  imageName: string;
  dockerNetwork: string;
  docker: DockerEndpoint;
  runtime: RuntimeConfig;
  dataDir: string;
  /** Real path (symlinks resolved) of the only host folder Kai browses or mounts. */
  hostRoot: string;
  pullPolicy: 'missing' | 'never';
  /** Label value that marks this Kai's containers, so several Kai (or test runs) share one engine. */
  instance: string;
  logLevel: string;
  auth: AuthConfig;
  shell: ShellConfig;
  events: EventsConfig;
  webhooks: WebhooksConfig;
  /** Fastify's trustProxy: which proxies' X-Forwarded-* headers to believe. */
  trustProxy: boolean | string;
}

export interface RuntimeConfig {
  /** `docker`: one engine; `swarm`: DOCKER_HOST is a Swarm manager and sandboxes are services. */
  kind: 'docker' | 'swarm';
  /** Swarm: engines of the nodes by hostname or node id, for terminals and resource use. */
  nodeEngines: Record<string, DockerEndpoint>;
  /** Swarm: where Kai reaches ports published on a node, by hostname or node id (default: the node's own address). */
  nodeAddresses: Record<string, string>;
}

export interface ShellConfig {
  /** How Kai reaches sandbox ports: `published` (127.0.0.1) or `network` (container name on DOCKER_NETWORK). */
  target: 'published' | 'network';
  /** How long a built-in terminal outlives its last connection. */
  terminalGraceSeconds: number;
  /** Recent output kept per terminal for replay on reconnect. */
  terminalBufferBytes: number;
}

export interface EventsConfig {
  /** Comment lines on idle SSE streams this often. */
  heartbeatSeconds: number;
  /** Recent events kept for Last-Event-ID resume. */
  historySize: number;
}

export interface WebhooksConfig {
  /** Delay before each retry, in seconds; attempts = length + 1. */
  retryScheduleSeconds: number[];
}

export interface AuthConfig {
  adminUsername: string;
  adminPassword: string | undefined;
  sessionTtlSeconds: number;
  jwtSecret: string | undefined;
  /** Origins besides Kai's own that may open WebSocket and other upgrade handshakes. */
  allowedOrigins: string[];
  loginMaxAttempts: number;
  loginWindowSeconds: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseDockerHost(env: Env): DockerEndpoint {
  const raw = env.DOCKER_HOST;
  if (!raw) return { kind: 'socket', socketPath: '/var/run/docker.sock', label: 'unix:///var/run/docker.sock' };
  return parseEndpoint(raw, env, 'DOCKER_HOST');
}

function parseEndpoint(raw: string, env: Env, variable: string): DockerEndpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${variable}: "${raw}" is not an engine address such as unix:///var/run/docker.sock or tcp://host:2376`);
  }
  if (!['unix:', 'tcp:', 'http:', 'https:'].includes(url.protocol)) {
    throw new ConfigError(`${variable}: "${raw}" must start with unix://, tcp://, http:// or https://`);
  }
  if (url.protocol === 'unix:') {
    if (!url.pathname || url.pathname === '/') throw new ConfigError(`${variable}: unix:// needs a socket path`);
    return { kind: 'socket', socketPath: url.pathname, label: raw };
  }
  const tls = url.protocol === 'https:' || (env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '' && env.DOCKER_TLS_VERIFY !== '0');
  const port = url.port ? Number(url.port) : tls ? 2376 : 2375;
  return {
    kind: 'tcp',
    protocol: tls ? 'https' : 'http',
    host: url.hostname,
    port,
    ...(env.DOCKER_CERT_PATH ? { certPath: env.DOCKER_CERT_PATH } : {}),
    label: raw,
  };
}

const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90", "90s", "15m", "12h", "7d" → seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)([smhd])?$/.exec(value);
  if (!match) throw new ConfigError(`not a duration: ${value}`);
  return Number(match[1]) * (SECONDS_PER_UNIT[match[2] ?? 's'] ?? 1);
}

/** "name=value,name=value" → a record; names are node hostnames or ids. */
function parsePairs(raw: string | undefined, variable: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of (raw ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
    const equals = item.indexOf('=');
    const name = item.slice(0, equals).trim();
    const value = item.slice(equals + 1).trim();
    if (equals <= 0 || !value || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
      throw new ConfigError(`${variable}: "${item}" must be node=value (node hostname or id), comma-separated`);
    }
    pairs[name] = value;
  }
  return pairs;
}

function parseRuntime(env: Env): RuntimeConfig {
  const engines = parsePairs(env.KAI_SWARM_NODE_ENGINES, 'KAI_SWARM_NODE_ENGINES');
  return {
    kind: env.KAI_RUNTIME,
    nodeEngines: Object.fromEntries(Object.entries(engines).map(([node, raw]) => [node, parseEndpoint(raw, env, 'KAI_SWARM_NODE_ENGINES')])),
    nodeAddresses: parsePairs(env.KAI_SWARM_NODE_ADDRESSES, 'KAI_SWARM_NODE_ADDRESSES'),
  };
}

function parseOrigins(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw.split(',').map((origin) => origin.trim()).filter(Boolean).map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(`KAI_ALLOWED_ORIGINS: "${origin}" is not an origin such as https://kai.example.com`);
    }
    if (url.origin !== origin.replace(/\/$/, '')) throw new ConfigError(`KAI_ALLOWED_ORIGINS: "${origin}" must be scheme://host[:port] only`);
    return url.origin;
  });
}

function parseTrustProxy(raw: string | undefined): boolean | string {
  if (raw === undefined || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  return raw; // addresses or CIDRs, comma-separated
}

function resolveHostRoot(raw: string | undefined): string {
  const wanted = raw ?? homedir();
  if (!path.isAbsolute(wanted)) throw new ConfigError(`KAI_HOST_ROOT: must be an absolute path, got "${wanted}"`);
  if (!existsSync(wanted) || !statSync(wanted).isDirectory()) {
    throw new ConfigError(`KAI_HOST_ROOT: "${wanted}" is not an existing directory`);
  }
  return realpathSync(wanted);
}

/**
 * Reads and validates Kai's configuration. A bad value throws ConfigError
 * whose message names the variable; main() prints it and exits.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset" for every variable, as in most shells' `VAR= kai`.
  const data = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  let env: Env;
  try {
    env = envSchema<Env>({ schema: structuredClone(EnvSchema), data, env: false });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`invalid configuration: ${message.replaceAll('env/', '')}`);
  }
  return {
    port: env.PORT,
    host: env.HOST,
    imageName: env.IMAGE_NAME,
    dockerNetwork: env.DOCKER_NETWORK,
    docker: parseDockerHost(env),
    runtime: parseRuntime(env),
    dataDir: path.resolve(env.KAI_DATA_DIR ?? path.join(homedir(), '.kai')),
    hostRoot: resolveHostRoot(env.KAI_HOST_ROOT),
    pullPolicy: env.KAI_PULL_POLICY,
    instance: env.KAI_INSTANCE,
    logLevel: env.KAI_LOG_LEVEL,
    auth: {
      adminUsername: env.KAI_ADMIN_USERNAME,
      adminPassword: env.KAI_ADMIN_PASSWORD,
      sessionTtlSeconds: parseDuration(env.KAI_SESSION_TTL),
      jwtSecret: env.KAI_JWT_SECRET,
      allowedOrigins: parseOrigins(env.KAI_ALLOWED_ORIGINS),
      loginMaxAttempts: env.KAI_LOGIN_MAX_ATTEMPTS,
      loginWindowSeconds: parseDuration(env.KAI_LOGIN_WINDOW),
    },
    shell: {
      target: env.KAI_SHELL_TARGET,
      terminalGraceSeconds: parseDuration(env.KAI_TERMINAL_GRACE),
      terminalBufferBytes: env.KAI_TERMINAL_BUFFER,
    },
    events: {
      heartbeatSeconds: parseDuration(env.KAI_SSE_HEARTBEAT),
      historySize: env.KAI_EVENT_HISTORY,
    },
    webhooks: {
      retryScheduleSeconds: env.KAI_WEBHOOK_RETRY_SCHEDULE.split(',').map(Number),
    },
    trustProxy: parseTrustProxy(env.KAI_TRUST_PROXY),
  };
}
