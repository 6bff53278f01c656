import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { DockerRuntime } from './docker/docker-runtime.js';
import type { Runtime } from './types.js';

/** The runtime the configuration asks for; Docker is the only one so far. */
export function createRuntime(config: Config, logger: Logger): Runtime {
  return new DockerRuntime({
    endpoint: config.docker,
    network: config.dockerNetwork,
    instance: config.instance,
    pullPolicy: config.pullPolicy,
    portTarget: config.shell.target,
    logger,
  });
}
