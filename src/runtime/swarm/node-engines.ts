import type Dockerode from 'dockerode';
import type { DockerEndpoint } from '../../config.js';
import { KaiError } from '../../errors.js';
import { dockerClient } from '../docker/client.js';
import type { SwarmNode } from './engine-types.js';
import { hostnameOf } from './state.js';

/**
 * A node's own engine, for the work Swarm does not route through a manager:
 * exec (the built-in terminal) and resource use. Keyed by node id or
 * hostname in KAI_SWARM_NODE_ENGINES; the manager Kai talks to serves its own node.
 */
export class NodeEngines {
  private readonly clients = new Map<string, Dockerode>();

  constructor(
    private readonly endpoints: Record<string, DockerEndpoint>,
    private readonly addresses: Record<string, string>,
    private readonly manager: Dockerode,
    private readonly managerNodeId: () => string | undefined,
  ) {}

  /** The engine of `node`, or a clear error saying how to configure it. */
  engineOf(node: SwarmNode): Dockerode {
    if (node.ID === this.managerNodeId()) return this.manager;
    const key = [node.ID, hostnameOf(node)].find((name) => this.endpoints[name] !== undefined);
    const endpoint = key === undefined ? undefined : this.endpoints[key];
    if (!endpoint || key === undefined) {
      throw new KaiError(
        'DOCKER_ERROR',
        `Kai has no connection to the engine of node ${hostnameOf(node)}; add it to KAI_SWARM_NODE_ENGINES (hostname=unix:///... or tcp://...)`,
        { node: hostnameOf(node) },
      );
    }
    let client = this.clients.get(key);
    if (!client) {
      client = dockerClient(endpoint);
      this.clients.set(key, client);
    }
    return client;
  }

  /** Where ports published on `node` are reached: KAI_SWARM_NODE_ADDRESSES, else the address the node joined with. */
  addressOf(node: SwarmNode): string {
    const override = this.addresses[node.ID] ?? this.addresses[hostnameOf(node)];
    if (override) return override;
    const own = node.Status.Addr;
    if (own && own !== '0.0.0.0') return own;
    // A manager may report 0.0.0.0 as its status address; its advertised address is host:port.
    const advertised = node.ManagerStatus?.Addr?.replace(/:\d+$/, '');
    return advertised || '127.0.0.1';
  }
}
