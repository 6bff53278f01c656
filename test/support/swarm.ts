import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';

const execFileAsync = promisify(execFile);
const SCRIPT = 'scripts/swarm-cluster.sh';
const CLUSTER_ENV = '/var/run/kai-swarm/cluster.env';

/** The three-node test Swarm that scripts/swarm-cluster.sh builds in network namespaces. */
export interface SwarmCluster {
  /** Kai's environment for this cluster: DOCKER_HOST, KAI_RUNTIME and the node maps. */
  env: Record<string, string>;
  manager: Dockerode;
  /** hostname → the node's own engine. */
  engines: Map<string, Dockerode>;
  hostnames: string[];
  /** Runs the docker CLI against the manager, as an operator would. */
  cli(...args: string[]): Promise<string>;
  stopEngine(index: number): Promise<void>;
  startEngine(index: number): Promise<void>;
  /** Tears the cluster down if this run built it. */
  release(): Promise<void>;
}

async function script(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('bash', [SCRIPT, ...args], { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
  return stdout;
}

function readEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(CLUSTER_ENV, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

function socketOf(url: string): string {
  return url.replace(/^unix:\/\//, '');
}

/** Uses a running test cluster, or builds one (and then removes it on release). */
export async function useSwarmCluster(): Promise<SwarmCluster> {
  let built = false;
  const up = existsSync(CLUSTER_ENV) && (await script('status').then(() => true, () => false));
  if (!up) {
    await script('up');
    built = true;
  }
  const raw = readEnv();
  const managerUrl = raw.KAI_SWARM_MANAGER!;
  const engines = new Map<string, Dockerode>();
  for (const pair of raw.KAI_SWARM_NODE_ENGINES!.split(',')) {
    const [hostname, url] = pair.split('=');
    engines.set(hostname!, new Dockerode({ socketPath: socketOf(url!) }));
  }
  return {
    env: {
      KAI_RUNTIME: 'swarm',
      DOCKER_HOST: managerUrl,
      KAI_SWARM_NODE_ENGINES: raw.KAI_SWARM_NODE_ENGINES!,
      KAI_SWARM_NODE_ADDRESSES: raw.KAI_SWARM_NODE_ADDRESSES ?? '',
    },
    manager: new Dockerode({ socketPath: socketOf(managerUrl) }),
    engines,
    hostnames: [...engines.keys()],
    async cli(...args) {
      const { stdout } = await execFileAsync('docker', ['-H', managerUrl, ...args], { maxBuffer: 16 * 1024 * 1024 });
      return stdout.trim();
    },
    async stopEngine(index) {
      await script('stop-engine', String(index));
    },
    async startEngine(index) {
      await script('start-engine', String(index));
    },
    async release() {
      if (built) await script('down');
    },
  };
}

/** Removes the services of one Kai instance, and its overlay network, from the swarm. */
export async function removeSwarmInstance(manager: Dockerode, instance: string, network?: string): Promise<void> {
  // A Kai pointed at a worker (a failure-path test) made nothing, and a worker cannot list services.
  const services = await manager.listServices({ filters: { label: [`kai.instance=${instance}`] } }).catch(() => []);
  await Promise.all(services.map((service) => manager.getService(service.ID!).remove().catch(() => undefined)));
  if (!network) return;
  // Tasks leave the network a moment after their service is removed.
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await manager.getNetwork(network).remove();
      return;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      // Gone already, or no manager to ask: nothing to wait for.
      if (status === 404 || status === undefined) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
