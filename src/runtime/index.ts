import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { DockerRuntime } from './docker/docker-runtime.js';
import { SwarmRuntime } from './swarm/swarm-runtime.js';
import type { Runtime } from './types.js';

/** The runtime KAI_RUNTIME asks for: one Docker engine, or a Swarm through one of its managers. */
export function createRuntime(config: Config, logger: Logger): Runtime {
  if (config.runtime.kind === 'swarm') {
    return new SwarmRuntime({
      endpoint: config.docker,
      network: config.dockerNetwork,
      instance: config.instance,
      portTarget: config.shell.target,
      nodeEngines: config.runtime.nodeEngines,
      nodeAddresses: config.runtime.nodeAddresses,
      logger,
    });
  }
  return new DockerRuntime({
    endpoint: config.docker,
    network: config.dockerNetwork,
    instance: config.instance,
    pullPolicy: config.pullPolicy,
    portTarget: config.shell.target,
    logger,
  });
}
