import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import type { DockerEndpoint } from '../../config.js';
import { KaiError, validationError } from '../../errors.js';
import type {
  EngineEventStream,
  FlexyAction,
  FlexyCreateSpec,
  FlexyDetails,
  FlexyEndpoint,
  FlexyNode,
  FlexyStats,
  FlexyStatus,
  FlexySummary,
  ListableStatus,
  LogOptions,
  LogStream,
  Runtime,
  StatsStream,
  TerminalOptions,
  TerminalProcess,
} from '../types.js';
import { dockerClient, pingEngine, readEngineInfo } from './client.js';
import { engineMessage, isConnectionFailure, statusOf, toKaiError, unreachable } from './engine-errors.js';
import { ImagePuller } from './image-puller.js';
import { LABEL_CONTAINER_PATH, LABEL_ENV_KEYS, LABEL_HOST_PATH, LABEL_INSTANCE, LABEL_MANAGED, isOwned, ownershipFilters } from './labels.js';
import { detailsFromInspect, plainName, summaryFromListItem, toDockerStateFilter, toFlexyStatus } from './mapping.js';
import { watchEngineEvents } from './events.js';
import { openLogs } from './logs.js';
import { readStats, streamStats } from './stats.js';
import { openTerminal } from './terminal.js';

/** The Flexy web terminal (ttyd) and the optional docs app; both published on loopback only. */
export const SHELL_PORT = 9681;
export const DOCS_PORT = 8080;
const PUBLISHED_PORTS = [SHELL_PORT, DOCS_PORT];

/** Reads answer in milliseconds on a healthy engine; past this the engine is treated as unreachable. */
const QUICK_MS = 2_000;
/** Writes may wait for the engine's own work (stopping waits for the process to exit). */
const SLOW_MS = 60_000;
const STOP_GRACE_SECONDS = 10;

const REF_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export interface DockerRuntimeOptions {
  endpoint: DockerEndpoint;
  network: string;
  instance: string;
  pullPolicy: 'missing' | 'never';
  /** `published`: 127.0.0.1 and the published port; `network`: container name on the network (Kai in a container). */
  portTarget: 'published' | 'network';
  logger: Logger;
}

export class DockerRuntime implements Runtime {
  private readonly docker: Dockerode;
  private readonly puller: ImagePuller;
  private networkReady = false;

  constructor(private readonly options: DockerRuntimeOptions) {
    this.docker = dockerClient(options.endpoint);
    this.puller = new ImagePuller(this.docker, options.logger);
  }

  async ping(): Promise<void> {
    await this.call('reach the engine', QUICK_MS, (abortSignal) =>
      pingEngine(this.docker, abortSignal),
    );
  }

  async prepare(): Promise<void> {
    await this.ping();
    await this.ensureNetwork();
  }

  async list(filter: { status?: ListableStatus }): Promise<FlexySummary[]> {
    const filters: Record<string, string[]> = { label: ownershipFilters(this.options.instance) };
    if (filter.status) filters.status = [toDockerStateFilter(filter.status)];
    const items = await this.call('list containers', QUICK_MS, (abortSignal) =>
      this.docker.listContainers({ all: true, filters, abortSignal }),
    );
    // The engine answers newest first already; sorting again keeps that a promise of Kai's, not an accident.
    return items.sort((a, b) => b.Created - a.Created).map(summaryFromListItem);
  }

  async get(ref: string): Promise<FlexyDetails> {
    return detailsFromInspect(await this.resolve(ref));
  }

  async create(spec: FlexyCreateSpec): Promise<FlexyDetails> {
    // Creating waits up to a minute for the engine; a quick ping first keeps an absent engine a fast 503.
    await this.ping();
    if (spec.node !== null) await this.checkNode(spec.node);
    await this.ensureNetwork();
    const id = await this.createContainer(spec, true);
    return this.get(id);
  }

  async start(ref: string): Promise<FlexyAction> {
    return this.act(ref, 'start the container', (container, abortSignal) =>
      this.recoveringNetwork(() => container.start({ abortSignal })),
    );
  }

  async stop(ref: string): Promise<FlexyAction> {
    return this.act(ref, 'stop the container', (container, abortSignal) =>
      container.stop({ t: STOP_GRACE_SECONDS, abortSignal }),
    );
  }

  async restart(ref: string): Promise<FlexyAction> {
    return this.act(ref, 'restart the container', (container, abortSignal) =>
      this.recoveringNetwork(() => container.restart({ t: STOP_GRACE_SECONDS, abortSignal })),
    );
  }

  async remove(ref: string): Promise<FlexyAction> {
    // force: a running sandbox can be deleted; v: false keeps named volumes; bind-mounted folders are never touched by the engine.
    return this.act(ref, 'remove the container', (container, abortSignal) =>
      container.remove({ force: true, v: false, abortSignal }),
    );
  }

  async endpoint(ref: string, containerPort: number): Promise<FlexyEndpoint> {
    const info = await this.resolve(ref);
    const status = toFlexyStatus(info.State.Status);
    const name = nameOf(info);
    let address: FlexyEndpoint['address'] = null;
    if (status === 'running') {
      if (this.options.portTarget === 'network') {
        address = { host: name, port: containerPort };
      } else {
        const binding = info.NetworkSettings.Ports?.[`${containerPort}/tcp`]?.find((b) => b.HostIp === '127.0.0.1' || b.HostIp === '0.0.0.0');
        if (binding) address = { host: '127.0.0.1', port: Number(binding.HostPort) };
      }
    }
    return { id: info.Id, name, status, address };
  }

  async openTerminal(ref: string, options: TerminalOptions): Promise<TerminalProcess> {
    const info = await this.running(ref, 'open a terminal');
    return this.onContainer(ref, 'open a terminal', () => openTerminal(this.docker, info, options));
  }

  async status(id: string): Promise<FlexyStatus | null> {
    const info = await this.inspect(id);
    return info ? toFlexyStatus(info.State.Status) : null;
  }

  async watchEvents(): Promise<EngineEventStream> {
    try {
      return await watchEngineEvents(this.docker, this.options.instance);
    } catch (error) {
      throw this.translate(error, 'follow engine events');
    }
  }

  async logs(ref: string, options: LogOptions): Promise<LogStream> {
    const info = await this.resolve(ref);
    return this.onContainer(ref, 'read the logs', () => openLogs(this.docker, info, options));
  }

  async stats(ref: string): Promise<FlexyStats> {
    const info = await this.running(ref, 'read its resource use');
    return this.onContainer(ref, 'read resource use', () => readStats(this.docker, info.Id));
  }

  async statsStream(ref: string): Promise<StatsStream> {
    const info = await this.running(ref, 'read its resource use');
    return this.onContainer(ref, 'read resource use', () => streamStats(this.docker, info.Id));
  }

  /** A single engine is one node: itself. */
  async nodes(): Promise<FlexyNode[]> {
    const [info, sandboxes] = await Promise.all([
      this.call('read engine information', QUICK_MS, (abortSignal) => readEngineInfo(this.docker, abortSignal)),
      this.list({ status: 'running' }),
    ]);
    return [
      {
        id: info.ID,
        hostname: info.Name,
        address: '127.0.0.1',
        role: 'manager',
        state: 'ready',
        availability: 'active',
        sandboxes: sandboxes.length,
        cpus: info.NCPU,
        memoryBytes: info.MemTotal,
      },
    ];
  }

  /** On one engine a pin can only name that engine; anything else is a mistake worth saying. */
  private async checkNode(node: string): Promise<void> {
    const info = await this.call('read engine information', QUICK_MS, (abortSignal) => readEngineInfo(this.docker, abortSignal));
    if (node !== info.ID && node !== info.Name) {
      throw validationError('body.node', `"${node}" is not this Docker engine (${info.Name}); placing sandboxes on other nodes needs KAI_RUNTIME=swarm`);
    }
  }

  async close(): Promise<void> {
    // dockerode keeps no pooled connections of its own to release.
  }

  /** Finds one of Kai's own containers by id, unique id prefix or name; others stay invisible. */
  private async resolve(ref: string): Promise<Dockerode.ContainerInspectInfo> {
    if (!REF_PATTERN.test(ref)) throw notFound(ref);
    const direct = await this.inspect(ref);
    if (direct && isOwned(direct.Config.Labels, this.options.instance)) return direct;

    // The engine matched nothing of Kai's (or someone else's container): look among Kai's own only.
    const items = await this.call('list containers', QUICK_MS, (abortSignal) =>
      this.docker.listContainers({ all: true, filters: { label: ownershipFilters(this.options.instance) }, abortSignal }),
    );
    const byName = items.filter((item) => item.Names.some((name) => name === `/${ref}`));
    const matches = byName.length > 0 ? byName : items.filter((item) => item.Id.startsWith(ref.toLowerCase()));
    if (matches.length > 1) {
      throw validationError('params.id', `"${ref}" matches ${matches.length} containers; give more of the id`);
    }
    const match = matches[0];
    const info = match ? await this.inspect(match.Id) : undefined;
    if (!info || !isOwned(info.Config.Labels, this.options.instance)) throw notFound(ref);
    return info;
  }

  private async running(ref: string, purpose: string): Promise<Dockerode.ContainerInspectInfo> {
    const info = await this.resolve(ref);
    if (info.State.Status !== 'running') {
      throw new KaiError('CONFLICT', `Container "${nameOf(info)}" is not running; start it to ${purpose}`, { id: info.Id });
    }
    return info;
  }

  private async inspect(ref: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(ref).inspect({ abortSignal: AbortSignal.timeout(QUICK_MS) });
    } catch (error) {
      // Not found, or a prefix shared by several containers (the engine says 500): resolve() then looks among Kai's own.
      if (statusOf(error) === 404 || /multiple ids found/i.test(engineMessage(error))) return undefined;
      throw this.translate(error, 'inspect the container');
    }
  }

  private async act(
    ref: string,
    action: string,
    operation: (container: Dockerode.Container, abortSignal: AbortSignal) => Promise<unknown>,
  ): Promise<FlexyAction> {
    const info = await this.resolve(ref);
    const container = this.docker.getContainer(info.Id);
    await this.onContainer(ref, action, async () => {
      try {
        await operation(container, AbortSignal.timeout(SLOW_MS));
      } catch (error) {
        // 304: already in the wanted state, which is what the caller asked for.
        if (statusOf(error) !== 304) throw error;
      }
    });
    return { id: info.Id, name: nameOf(info) };
  }

  /** Engine work on a container already resolved: it vanishing meanwhile is a 404 naming what the client asked for. */
  private async onContainer<T>(ref: string, action: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (statusOf(error) === 404) throw notFound(ref);
      throw this.translate(error, action);
    }
  }

  private async createContainer(spec: FlexyCreateSpec, mayRecover: boolean): Promise<string> {
    try {
      const container = await this.docker.createContainer({
        ...containerSpec(spec, this.options),
        abortSignal: AbortSignal.timeout(SLOW_MS),
      } as Dockerode.ContainerCreateOptions);
      return container.id;
    } catch (error) {
      const status = statusOf(error);
      const message = engineMessage(error);
      if (status === 409) {
        throw new KaiError('CONFLICT', `A container named "${spec.name}" already exists`, { field: 'body.name' });
      }
      if (status === 404 && /no such image/i.test(message) && mayRecover) {
        await this.pullMissing(spec.image);
        return this.createContainer(spec, false);
      }
      if (status === 400) {
        this.options.logger.warn({ engineMessage: message }, 'engine rejected container spec');
        throw new KaiError('VALIDATION_ERROR', 'The Docker engine rejected the container settings', {
          fields: [{ field: 'body', message: 'rejected by the engine' }],
        });
      }
      throw this.translate(error, 'create the container');
    }
  }

  private async pullMissing(image: string): Promise<void> {
    if (this.options.pullPolicy === 'never') {
      throw validationError(
        'body.image',
        `image "${image}" is not on the Docker engine and KAI_PULL_POLICY is "never". ` +
          'Build the Flexy image with `bash scripts/setup.sh` (or images/flexy/build.sh), or load it with `docker load`.',
      );
    }
    try {
      await this.puller.pull(image);
    } catch (error) {
      if (isConnectionFailure(error)) throw unreachable(error, this.options.endpoint.label);
      this.options.logger.warn({ image, engineMessage: engineMessage(error) }, 'image pull failed');
      throw new KaiError(
        'DOCKER_ERROR',
        `Image "${image}" is not on the Docker engine and could not be pulled. Build or load it on this machine (see README).`,
        { image },
      );
    }
  }

  private async ensureNetwork(): Promise<void> {
    if (this.networkReady) return;
    const name = this.options.network;
    const existing = await this.call('list networks', QUICK_MS, (abortSignal) =>
      this.docker.listNetworks({ filters: { name: [name] }, abortSignal }),
    );
    if (!existing.some((network) => network.Name === name)) {
      try {
        await this.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: { [LABEL_MANAGED]: 'true' },
          abortSignal: AbortSignal.timeout(SLOW_MS),
        } as Dockerode.NetworkCreateOptions);
        this.options.logger.info({ network: name }, 'created docker network');
      } catch (error) {
        // Another Kai (or a concurrent request) created it first: that is the state we want.
        if (statusOf(error) !== 409) throw this.translate(error, `create network ${name}`);
      }
    }
    this.networkReady = true;
  }

  /**
   * The engine checks the network only when a container starts. If Kai's
   * network was removed behind its back, make it again and retry once.
   */
  private async recoveringNetwork<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      const missingNetwork = statusOf(error) === 404 && engineMessage(error).includes(`network ${this.options.network} not found`);
      if (!missingNetwork) throw error;
      this.networkReady = false;
      await this.ensureNetwork();
      return operation();
    }
  }

  private async call<T>(action: string, timeoutMs: number, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await operation(AbortSignal.timeout(timeoutMs));
    } catch (error) {
      throw this.translate(error, action);
    }
  }

  private translate(error: unknown, action: string): KaiError {
    if (error instanceof KaiError) return error;
    if (isConnectionFailure(error)) this.networkReady = false;
    const kaiError = toKaiError(error, this.options.endpoint.label, action);
    if (kaiError.code === 'DOCKER_ERROR') {
      this.options.logger.warn({ action, engineStatus: statusOf(error), engineMessage: engineMessage(error) }, 'engine call failed');
    }
    return kaiError;
  }
}

function nameOf(info: Dockerode.ContainerInspectInfo): string {
  return plainName(info.Name);
}

function notFound(ref: string): KaiError {
  return new KaiError('CONTAINER_NOT_FOUND', `No Flexy container "${ref}"`, { id: ref });
}

function containerSpec(spec: FlexyCreateSpec, options: DockerRuntimeOptions): Dockerode.ContainerCreateOptions {
  const labels: Record<string, string> = {
    [LABEL_MANAGED]: 'true',
    [LABEL_INSTANCE]: options.instance,
    [LABEL_CONTAINER_PATH]: spec.containerPath,
    [LABEL_ENV_KEYS]: Object.keys(spec.env).join(','),
  };
  const mounts: Dockerode.MountSettings[] = [];
  if (spec.hostPath) {
    labels[LABEL_HOST_PATH] = spec.hostPath;
    // Mounts, not Binds: Binds would silently create a missing host folder.
    mounts.push({ Type: 'bind', Source: spec.hostPath, Target: spec.containerPath, ReadOnly: false });
  }
  const exposed = Object.fromEntries(PUBLISHED_PORTS.map((port) => [`${port}/tcp`, {}]));
  // Loopback only with an ephemeral port: the sandbox is reached through Kai, never from the network.
  const bindings = Object.fromEntries(PUBLISHED_PORTS.map((port) => [`${port}/tcp`, [{ HostIp: '127.0.0.1', HostPort: '' }]]));
  return {
    name: spec.name,
    Image: spec.image,
    Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    Labels: labels,
    ...(spec.hostPath ? { WorkingDir: spec.containerPath } : {}),
    ExposedPorts: exposed,
    HostConfig: {
      NetworkMode: options.network,
      Mounts: mounts,
      PortBindings: bindings,
      // An init process forwards signals (a prompt stop) and reaps the zombies agents leave behind.
      Init: true,
    },
  };
}
