import type { Logger } from 'pino';
import { KaiError } from '../../errors.js';
import { engineMessage, statusOf, toKaiError } from '../docker/engine-errors.js';

/** Reads answer in milliseconds on a healthy manager; past this it is treated as unreachable. */
export const QUICK_MS = 2_000;
/** Writes may wait for the manager's own work. */
export const SLOW_MS = 60_000;

/** Calls to the manager with a deadline, their failures turned into Kai's errors (and logged when they are the engine's). */
export class EngineCalls {
  constructor(
    private readonly endpointLabel: string,
    private readonly logger: Logger,
  ) {}

  async call<T>(action: string, timeoutMs: number, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await operation(AbortSignal.timeout(timeoutMs));
    } catch (error) {
      throw this.translate(error, action);
    }
  }

  translate(error: unknown, action: string): KaiError {
    if (error instanceof KaiError) return error;
    const kaiError = toKaiError(error, this.endpointLabel, action);
    if (kaiError.code === 'DOCKER_ERROR') {
      this.logger.warn({ action, engineStatus: statusOf(error), engineMessage: engineMessage(error) }, 'swarm call failed');
    }
    return kaiError;
  }
}

export function notFound(ref: string): KaiError {
  return new KaiError('CONTAINER_NOT_FOUND', `No Flexy container "${ref}"`, { id: ref });
}
