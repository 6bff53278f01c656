import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import type { DockerEndpoint } from '../../config.js';
import { KaiError } from '../../errors.js';
import { dockerClient, pingEngine, readEngineInfo } from '../docker/client.js';
import { DOCS_PORT, SHELL_PORT } from '../docker/docker-runtime.js';
import { engineMessage, statusOf } from '../docker/engine-errors.js';
import { LABEL_MANAGED, isOwned } from '../docker/labels.js';
import { logLines } from '../docker/logs.js';
import { readStats, streamStats } from '../docker/stats.js';
import { openTerminal } from '../docker/terminal.js';
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
import { ClusterReader } from './cluster.js';
import { EngineCalls, QUICK_MS, SLOW_MS, notFound } from './engine-calls.js';
import type { SwarmNode, SwarmService, SwarmServiceSpec } from './engine-types.js';
import { watchSwarmEvents, type Observed } from './events.js';
import { NodeEngines } from './node-engines.js';
import { scaled, serviceSpec } from './service-spec.js';
import { detailsOf, hostnameOf, replicasOf, sandboxState, summaryOf, type SandboxState } from './state.js';

/** How long start and restart wait for a running task, and stop for the task to end, before answering anyway. */
const CONVERGE_MS = 60_000;
const CONVERGE_POLL_MS = 100;

export interface SwarmRuntimeOptions {
  /** A manager of the swarm. */
  endpoint: DockerEndpoint;
  /** Attachable overlay network every sandbox joins (for KAI_SHELL_TARGET=network). */
  network: string;
  instance: string;
  portTarget: 'published' | 'network';
  /** Engines of the nodes, by hostname or node id, for terminals and resource use. */
  nodeEngines: Record<string, DockerEndpoint>;
  /** Addresses Kai reaches nodes' published ports at, by hostname or node id, where the node's own is not right. */
  nodeAddresses: Record<string, string>;
  logger: Logger;
}

/**
 * Sandboxes as one-replica Swarm services: created with zero replicas,
 * started by scaling to one, stopped by scaling to zero, restarted by a
 * forced update. Kai talks to one manager; a node's own engine is needed
 * only for exec (terminals) and resource use.
 */
export class SwarmRuntime implements Runtime {
  private readonly docker: Dockerode;
  private readonly engines: NodeEngines;
  private readonly calls: EngineCalls;
  private readonly cluster: ClusterReader;
  private managerNodeId: string | undefined;
  private networkReady = false;

  constructor(private readonly options: SwarmRuntimeOptions) {
    this.docker = dockerClient(options.endpoint);
    this.calls = new EngineCalls(options.endpoint.label, options.logger);
    this.cluster = new ClusterReader(this.docker, options.instance, this.calls);
    this.engines = new NodeEngines(options.nodeEngines, options.nodeAddresses, this.docker, () => this.managerNodeId);
  }

  /** The manager answers and really is one (checked once; a worker or a single engine cannot run services). */
  async ping(): Promise<void> {
    await this.calls.call('reach the swarm manager', QUICK_MS, (abortSignal) =>
      pingEngine(this.docker, abortSignal),
    );
    await this.ensureManager();
  }

  async prepare(): Promise<void> {
    await this.ensureManager();
    await this.ensureNetwork();
  }

  private async ensureManager(): Promise<void> {
    if (this.managerNodeId) return;
    const info = await this.calls.call('read engine information', QUICK_MS, (abortSignal) => readEngineInfo(this.docker, abortSignal));
    if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) {
      throw new KaiError(
        'DOCKER_ERROR',
        `The engine at ${this.options.endpoint.label} is not a Swarm manager (KAI_RUNTIME=swarm needs DOCKER_HOST to point at one; see docs/swarm.md)`,
        { engine: 'not-a-manager' },
        503,
      );
    }
    this.managerNodeId = info.Swarm.NodeID;
  }

  async list(filter: { status?: ListableStatus }): Promise<FlexySummary[]> {
    const view = await this.cluster.readCluster();
    // Newest first by the engine's creation time (summaries show whole seconds); each time parsed once, not per comparison.
    const services = view.services
      .map((service) => ({ service, created: Date.parse(service.CreatedAt) }))
      .sort((a, b) => b.created - a.created || b.service.ID.localeCompare(a.service.ID))
      .map(({ service }) => service);
    const items = services.map((service) => summaryOf(service, sandboxState(service, view), this.addressOf));
    return filter.status ? items.filter((item) => item.status === filter.status) : items;
  }

  async get(ref: string): Promise<FlexyDetails> {
    const service = await this.cluster.resolve(ref);
    const state = await this.cluster.stateOf(service);
    return detailsOf(service, state, this.addressOf, this.options.network);
  }

  async create(spec: FlexyCreateSpec): Promise<FlexyDetails> {
    await this.prepare();
    const pinned = spec.node === null ? null : await this.cluster.findNode(spec.node);
    let id: string;
    try {
      const created = (await this.docker.createService({
        ...serviceSpec(spec, pinned, { instance: this.options.instance, network: this.options.network, ports: [SHELL_PORT, DOCS_PORT] }),
        abortSignal: AbortSignal.timeout(SLOW_MS),
      } as unknown as Dockerode.CreateServiceOptions)) as Dockerode.Service;
      id = created.id;
    } catch (error) {
      const status = statusOf(error);
      if (status === 409) throw new KaiError('CONFLICT', `A sandbox named "${spec.name}" already exists`, { field: 'body.name' });
      if (status === 400) {
        this.options.logger.warn({ engineMessage: engineMessage(error) }, 'swarm rejected service spec');
        throw new KaiError('VALIDATION_ERROR', 'The Swarm manager rejected the sandbox settings', { fields: [{ field: 'body', message: 'rejected by the engine' }] });
      }
      throw this.calls.translate(error, 'create the service');
    }
    return this.get(id);
  }

  async start(ref: string): Promise<FlexyAction> {
    const service = await this.cluster.resolve(ref);
    if (replicasOf(service) === 0) await this.update(ref, service, scaled(service.Spec, 1), 'start the sandbox');
    await this.converge(service, (state) => state.status === 'running' || state.status === 'error', 'start');
    return { id: service.ID, name: service.Spec.Name };
  }

  async stop(ref: string): Promise<FlexyAction> {
    const service = await this.cluster.resolve(ref);
    if (replicasOf(service) > 0) await this.update(ref, service, scaled(service.Spec, 0), 'stop the sandbox');
    await this.converge(service, (state) => state.status === 'stopped' || state.status === 'created', 'stop');
    return { id: service.ID, name: service.Spec.Name };
  }

  async restart(ref: string): Promise<FlexyAction> {
    const service = await this.cluster.resolve(ref);
    const before = (await this.cluster.stateOf(service)).task?.ID;
    await this.update(ref, service, scaled(service.Spec, 1, true), 'restart the sandbox');
    await this.converge(service, (state) => (state.status === 'running' && state.task?.ID !== before) || state.status === 'error', 'restart');
    return { id: service.ID, name: service.Spec.Name };
  }

  async remove(ref: string): Promise<FlexyAction> {
    const service = await this.cluster.resolve(ref);
    try {
      await this.docker.getService(service.ID).remove({ abortSignal: AbortSignal.timeout(SLOW_MS) } as unknown as Record<string, never>);
    } catch (error) {
      if (statusOf(error) === 404) throw notFound(ref);
      throw this.calls.translate(error, 'remove the service');
    }
    return { id: service.ID, name: service.Spec.Name };
  }

  async endpoint(ref: string, containerPort: number): Promise<FlexyEndpoint> {
    const service = await this.cluster.resolve(ref);
    const state = await this.cluster.stateOf(service);
    let address: FlexyEndpoint['address'] = null;
    if (state.status === 'running') {
      if (this.options.portTarget === 'network') {
        // Kai in a container on the same attachable overlay network: the service name resolves to its task.
        address = { host: service.Spec.Name, port: containerPort };
      } else {
        const port = summaryOf(service, state, this.addressOf).ports.find((item) => item.containerPort === containerPort);
        if (port) address = { host: port.hostIp, port: port.hostPort };
      }
    }
    return { id: service.ID, name: service.Spec.Name, status: state.status, address };
  }

  async openTerminal(ref: string, options: TerminalOptions): Promise<TerminalProcess> {
    const { engine, containerId, service } = await this.runningContainer(ref, 'open a terminal');
    try {
      const info = await engine.getContainer(containerId).inspect({ abortSignal: AbortSignal.timeout(QUICK_MS) });
      const terminal = await openTerminal(engine, info, options);
      // The terminal belongs to the sandbox (the service), whichever task container serves it.
      return { ...terminal, containerId: service.ID };
    } catch (error) {
      throw this.onNode(error, ref, 'open a terminal');
    }
  }

  async status(id: string): Promise<FlexyStatus | null> {
    const service = await this.cluster.inspectService(id);
    if (!service || !isOwned(service.Spec.Labels, this.options.instance)) return null;
    return (await this.cluster.stateOf(service)).status;
  }

  async watchEvents(): Promise<EngineEventStream> {
    try {
      return await watchSwarmEvents(this.docker, () => this.observe());
    } catch (error) {
      throw this.calls.translate(error, 'follow swarm events');
    }
  }

  async logs(ref: string, options: LogOptions): Promise<LogStream> {
    const service = await this.cluster.resolve(ref);
    const handle = this.docker.getService(service.ID);
    // Service logs come through the manager from whichever nodes ran the tasks.
    type ServiceLogs = (query: Record<string, unknown>) => Promise<Readable | Buffer>;
    const read = (handle.logs as unknown as ServiceLogs).bind(handle);
    try {
      return await logLines(this.docker, { id: service.ID, tty: false }, options, async (query, follow) => {
        const result = await read({ ...query, follow });
        return Buffer.isBuffer(result) ? Readable.from([result]) : result;
      });
    } catch (error) {
      if (statusOf(error) === 404) throw notFound(ref);
      throw this.calls.translate(error, 'read the logs');
    }
  }

  async stats(ref: string): Promise<FlexyStats> {
    const { engine, containerId, service } = await this.runningContainer(ref, 'read its resource use');
    try {
      return { ...(await readStats(engine, containerId)), id: service.ID };
    } catch (error) {
      throw this.onNode(error, ref, 'read resource use');
    }
  }

  async statsStream(ref: string): Promise<StatsStream> {
    const { engine, containerId, service } = await this.runningContainer(ref, 'read its resource use');
    try {
      const stream = await streamStats(engine, containerId);
      async function* withServiceId(): AsyncGenerator<FlexyStats> {
        for await (const sample of stream) yield { ...sample, id: service.ID };
      }
      const iterator = withServiceId();
      return { close: () => stream.close(), [Symbol.asyncIterator]: () => iterator };
    } catch (error) {
      throw this.onNode(error, ref, 'read resource use');
    }
  }

  async nodes(): Promise<FlexyNode[]> {
    const view = await this.cluster.readCluster();
    const sandboxes = new Map<string, number>();
    for (const service of view.services) {
      const state = sandboxState(service, view);
      if (state.node && (state.status === 'running' || state.status === 'starting')) {
        sandboxes.set(state.node.ID, (sandboxes.get(state.node.ID) ?? 0) + 1);
      }
    }
    return [...view.nodes.values()]
      .map((node) => ({
        id: node.ID,
        hostname: hostnameOf(node),
        address: this.addressOf(node),
        role: node.Spec.Role === 'manager' ? ('manager' as const) : ('worker' as const),
        state: node.Status.State ?? 'unknown',
        availability: node.Spec.Availability ?? 'active',
        sandboxes: sandboxes.get(node.ID) ?? 0,
        cpus: (node.Description?.Resources?.NanoCPUs ?? 0) / 1e9,
        memoryBytes: node.Description?.Resources?.MemoryBytes ?? 0,
      }))
      .sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
  }

  async close(): Promise<void> {
    // dockerode keeps no pooled connections of its own to release.
  }

  private readonly addressOf = (node: SwarmNode): string => this.engines.addressOf(node);

  private async observe(): Promise<Map<string, Observed>> {
    const view = await this.cluster.readCluster();
    const seen = new Map<string, Observed>();
    for (const service of view.services) {
      const state = sandboxState(service, view);
      seen.set(service.ID, {
        summary: summaryOf(service, state, this.addressOf),
        taskId: state.task?.ID ?? null,
        exitCode: state.task?.Status.ContainerStatus?.ExitCode ?? null,
      });
    }
    return seen;
  }

  /** Waits until the sandbox reaches what `done` wants; a start that ends in error says why. */
  private async converge(service: SwarmService, done: (state: SandboxState) => boolean, verb: string): Promise<void> {
    const deadline = Date.now() + CONVERGE_MS;
    let state = await this.cluster.stateOf(service);
    while (!done(state) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, CONVERGE_POLL_MS));
      const current = await this.cluster.inspectService(service.ID);
      if (!current) throw notFound(service.Spec.Name);
      state = await this.cluster.stateOf(current);
    }
    if (state.status === 'error' && verb !== 'stop') {
      throw new KaiError('DOCKER_ERROR', `Sandbox "${service.Spec.Name}" did not ${verb}: ${state.reason ?? 'the task failed'}`, {
        id: service.ID,
        node: state.node ? hostnameOf(state.node) : null,
      });
    }
  }

  private async update(ref: string, service: SwarmService, spec: SwarmServiceSpec, action: string): Promise<void> {
    try {
      await this.docker.getService(service.ID).update({
        _query: { version: service.Version.Index },
        _body: spec,
        abortSignal: AbortSignal.timeout(SLOW_MS),
      } as unknown as Record<string, unknown>);
    } catch (error) {
      if (statusOf(error) === 404) throw notFound(ref);
      // Someone else updated it meanwhile: read the new version and apply the same change once more.
      if (/update out of sequence/i.test(engineMessage(error))) {
        const fresh = await this.cluster.resolve(ref);
        const retry = { ...spec, Labels: fresh.Spec.Labels ? { ...fresh.Spec.Labels, ...spec.Labels } : spec.Labels };
        await this.update(ref, fresh, retry, action);
        return;
      }
      throw this.calls.translate(error, action);
    }
  }

  /** The running task's container and the engine of its node. */
  private async runningContainer(ref: string, purpose: string): Promise<{ engine: Dockerode; containerId: string; service: SwarmService }> {
    await this.ensureManager();
    const service = await this.cluster.resolve(ref);
    const state = await this.cluster.stateOf(service);
    const containerId = state.task?.Status.ContainerStatus?.ContainerID;
    if (state.status !== 'running' || !state.node || !containerId) {
      throw new KaiError('CONFLICT', `Sandbox "${service.Spec.Name}" is not running; start it to ${purpose}`, { id: service.ID });
    }
    return { engine: this.engines.engineOf(state.node), containerId, service };
  }

  /** Work on a node's engine: its container vanishing is the sandbox not running there any more. */
  private onNode(error: unknown, ref: string, action: string): KaiError {
    if (error instanceof KaiError) return error;
    if (statusOf(error) === 404) return new KaiError('CONFLICT', `Sandbox "${ref}" is not running any more; start it to ${action}`, { id: ref });
    return this.calls.translate(error, action);
  }

  private async ensureNetwork(): Promise<void> {
    if (this.networkReady) return;
    const name = this.options.network;
    const existing = await this.calls.call('list networks', QUICK_MS, (abortSignal) =>
      this.docker.listNetworks({ filters: { name: [name] }, abortSignal }),
    );
    const found = existing.find((network) => network.Name === name);
    if (found && found.Driver !== 'overlay') {
      throw new KaiError('DOCKER_ERROR', `Network "${name}" exists on the manager but is not an overlay network; set DOCKER_NETWORK to another name for KAI_RUNTIME=swarm`, {}, 503);
    }
    if (!found) {
      try {
        await this.docker.createNetwork({
          Name: name,
          Driver: 'overlay',
          // Attachable: a Kai running as a container can join it and reach sandboxes by service name.
          Attachable: true,
          CheckDuplicate: true,
          Labels: { [LABEL_MANAGED]: 'true' },
          abortSignal: AbortSignal.timeout(SLOW_MS),
        } as Dockerode.NetworkCreateOptions);
        this.options.logger.info({ network: name }, 'created swarm overlay network');
      } catch (error) {
        if (statusOf(error) !== 409) throw this.calls.translate(error, `create network ${name}`);
      }
    }
    this.networkReady = true;
  }

}
