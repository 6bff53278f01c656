import { KaiError, engineUnavailable } from '../../errors.js';

/** What docker-modem attaches to the errors it throws. */
interface EngineError {
  statusCode?: number;
  code?: string;
  name?: string;
  json?: { message?: string } | null;
  reason?: string;
  message?: string;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOTSOCK',
]);

export function engineMessage(error: unknown): string {
  const e = error as EngineError;
  return (e.json?.message ?? e.reason ?? e.message ?? String(error)).trim();
}

export function isConnectionFailure(error: unknown): boolean {
  const e = error as EngineError;
  if (e.statusCode !== undefined) return false;
  return (
    CONNECTION_CODES.has(e.code ?? '') ||
    e.code === 'EACCES' ||
    e.name === 'AbortError' ||
    e.name === 'TimeoutError' ||
    e.code === 'ABORT_ERR'
  );
}

export function unreachable(error: unknown, endpoint: string): KaiError {
  const e = error as EngineError;
  if (e.code === 'EACCES') {
    return engineUnavailable(
      `Kai may not use the Docker engine at ${endpoint}: permission denied. Run Kai as root or as a member of the docker group.`,
    );
  }
  const why = e.name === 'AbortError' || e.name === 'TimeoutError' || e.code === 'ABORT_ERR' ? 'no answer in time' : (e.code ?? 'connection failed');
  return engineUnavailable(
    `The Docker engine at ${endpoint} is not reachable (${why}). Check that dockerd is running (docker info) and that DOCKER_HOST is right.`,
  );
}

export function statusOf(error: unknown): number | undefined {
  return (error as EngineError).statusCode;
}

/**
 * Any engine failure that a caller did not handle itself: the engine's own
 * wording stays in Kai's log, the client gets a stable message.
 */
export function toKaiError(error: unknown, endpoint: string, action: string): KaiError {
  if (error instanceof KaiError) return error;
  if (isConnectionFailure(error)) return unreachable(error, endpoint);
  const status = statusOf(error);
  if (status === 404) return new KaiError('CONTAINER_NOT_FOUND', 'Container not found');
  if (status === 409) return new KaiError('CONFLICT', `The Docker engine refused to ${action}: it conflicts with the container's current state`);
  return new KaiError('DOCKER_ERROR', `The Docker engine failed to ${action}`, { engineStatus: status ?? null });
}
