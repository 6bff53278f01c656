import { existsSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { envSchema } from 'env-schema';

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
  KAI_PULL_POLICY: Type.Union([Type.Literal('missing'), Type.Literal('never')], { default: 'missing' }),
  KAI_INSTANCE: Type.String({ pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$', default: 'default' }),
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
  dataDir: string;
  /** Real path (symlinks resolved) of the only host folder Kai browses or mounts. */
  hostRoot: string;
  pullPolicy: 'missing' | 'never';
  /** Label value that marks this Kai's containers, so several Kai (or test runs) share one engine. */
  instance: string;
  logLevel: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseDockerHost(env: Env): DockerEndpoint {
  const raw = env.DOCKER_HOST;
  if (!raw) return { kind: 'socket', socketPath: '/var/run/docker.sock', label: 'unix:///var/run/docker.sock' };
  const url = new URL(raw);
  if (url.protocol === 'unix:') {
    if (!url.pathname || url.pathname === '/') throw new ConfigError('DOCKER_HOST: unix:// needs a socket path');
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
    dataDir: path.resolve(env.KAI_DATA_DIR ?? path.join(homedir(), '.kai')),
    hostRoot: resolveHostRoot(env.KAI_HOST_ROOT),
    pullPolicy: env.KAI_PULL_POLICY,
    instance: env.KAI_INSTANCE,
    logLevel: env.KAI_LOG_LEVEL,
  };
}
