import { readFileSync } from 'node:fs';
import path from 'node:path';
import Dockerode from 'dockerode';
import type { DockerEndpoint } from '../../config.js';

export function dockerClient(endpoint: DockerEndpoint): Dockerode {
  if (endpoint.kind === 'socket') return new Dockerode({ socketPath: endpoint.socketPath });
  const tls =
    endpoint.protocol === 'https' && endpoint.certPath
      ? {
          ca: readFileSync(path.join(endpoint.certPath, 'ca.pem')),
          cert: readFileSync(path.join(endpoint.certPath, 'cert.pem')),
          key: readFileSync(path.join(endpoint.certPath, 'key.pem')),
        }
      : {};
  return new Dockerode({ protocol: endpoint.protocol, host: endpoint.host, port: endpoint.port, ...tls });
}

/** The parts of GET /info Kai reads. */
export interface EngineInfo {
  ID: string;
  Name: string;
  NCPU: number;
  MemTotal: number;
  Swarm?: { NodeID?: string; LocalNodeState?: string; ControlAvailable?: boolean };
}

export function pingEngine(docker: Dockerode, abortSignal: AbortSignal): Promise<unknown> {
  // The typings lack ping's options argument; dockerode passes the abort signal on like every other call's.
  return (docker.ping as (options: { abortSignal: AbortSignal }) => Promise<unknown>).call(docker, { abortSignal });
}

export function readEngineInfo(docker: Dockerode, abortSignal: AbortSignal): Promise<EngineInfo> {
  // The typings lack info's options argument; dockerode passes the abort signal on like every other call's.
  return (docker.info as (options: { abortSignal: AbortSignal }) => Promise<EngineInfo>).call(docker, { abortSignal });
}
