import type Dockerode from 'dockerode';
import { validationError } from '../../errors.js';
import { engineMessage, statusOf } from '../docker/engine-errors.js';
import { isOwned, ownershipFilters } from '../docker/labels.js';
import { type EngineCalls, QUICK_MS, notFound } from './engine-calls.js';
import type { ClusterView, SwarmNode, SwarmService, SwarmTask } from './engine-types.js';
import { hostnameOf, sandboxState, type SandboxState } from './state.js';

const REF_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** Reads Kai's part of a swarm from its manager: services, their tasks, nodes; and finds one sandbox by reference. */
export class ClusterReader {
  constructor(
    private readonly docker: Dockerode,
    private readonly instance: string,
    private readonly calls: EngineCalls,
  ) {}

  /** Kai's services, their tasks (grouped by service) and all nodes, read in parallel: three calls, whatever the count. */
  async readCluster(): Promise<ClusterView> {
    const [services, tasks, nodes] = await Promise.all([
      this.calls.call('list services', QUICK_MS, (abortSignal) =>
        this.docker.listServices({ filters: { label: ownershipFilters(this.instance) }, abortSignal } as Dockerode.ServiceListOptions),
      ) as Promise<unknown> as Promise<SwarmService[]>,
      // The task label filter matches the labels of the task's service: Kai's own tasks only.
      this.calls.call('list tasks', QUICK_MS, (abortSignal) =>
        this.docker.listTasks({ filters: { label: ownershipFilters(this.instance) }, abortSignal } as Record<string, unknown>),
      ) as Promise<unknown> as Promise<SwarmTask[]>,
      this.readNodes(),
    ]);
    const tasksByService = new Map<string, SwarmTask[]>();
    for (const task of tasks) {
      const list = tasksByService.get(task.ServiceID);
      if (list) list.push(task);
      else tasksByService.set(task.ServiceID, [task]);
    }
    return { services: services.filter((service) => isOwned(service.Spec.Labels, this.instance)), tasksByService, nodes };
  }

  async readNodes(): Promise<Map<string, SwarmNode>> {
    const nodes = (await this.calls.call('list nodes', QUICK_MS, (abortSignal) => this.docker.listNodes({ abortSignal } as Record<string, unknown>))) as SwarmNode[];
    return new Map(nodes.map((node) => [node.ID, node]));
  }

  /** One service's state: its tasks and the nodes, two calls. */
  async stateOf(service: SwarmService): Promise<SandboxState> {
    const [tasks, nodes] = await Promise.all([
      this.calls.call('list tasks', QUICK_MS, (abortSignal) =>
        this.docker.listTasks({ filters: { service: [service.ID] }, abortSignal } as Record<string, unknown>),
      ) as Promise<unknown> as Promise<SwarmTask[]>,
      this.readNodes(),
    ]);
    // The engine matches service filters by name prefix too: keep this service's own tasks only.
    const own = tasks.filter((task) => task.ServiceID === service.ID);
    return sandboxState(service, { services: [service], tasksByService: new Map([[service.ID, own]]), nodes });
  }

  /** Finds one of Kai's own services by id, unique id prefix or name; others stay invisible. */
  async resolve(ref: string): Promise<SwarmService> {
    if (!REF_PATTERN.test(ref)) throw notFound(ref);
    const direct = await this.inspectService(ref);
    if (direct && isOwned(direct.Spec.Labels, this.instance)) return direct;
    const services = (await this.calls.call('list services', QUICK_MS, (abortSignal) =>
      this.docker.listServices({ filters: { label: ownershipFilters(this.instance) }, abortSignal } as Dockerode.ServiceListOptions),
    )) as unknown as SwarmService[];
    const byName = services.filter((service) => service.Spec.Name === ref);
    const matches = byName.length > 0 ? byName : services.filter((service) => service.ID.startsWith(ref.toLowerCase()));
    if (matches.length > 1) throw validationError('params.id', `"${ref}" matches ${matches.length} sandboxes; give more of the id`);
    const match = matches[0];
    if (!match || !isOwned(match.Spec.Labels, this.instance)) throw notFound(ref);
    return match;
  }

  async inspectService(ref: string): Promise<SwarmService | undefined> {
    try {
      return (await this.docker.getService(ref).inspect({ abortSignal: AbortSignal.timeout(QUICK_MS) } as unknown as Record<string, never>)) as SwarmService;
    } catch (error) {
      if (statusOf(error) === 404 || /ambiguous|multiple/i.test(engineMessage(error))) return undefined;
      throw this.calls.translate(error, 'inspect the service');
    }
  }

  /** The node a pin names (id or hostname); several nodes sharing a hostname need the id. */
  async findNode(ref: string): Promise<SwarmNode> {
    const nodes = [...(await this.readNodes()).values()];
    const byId = nodes.find((node) => node.ID === ref);
    if (byId) return byId;
    const byName = nodes.filter((node) => hostnameOf(node) === ref);
    if (byName.length > 1) throw validationError('body.node', `${byName.length} nodes are called "${ref}"; give the node id (GET /api/nodes)`);
    const found = byName[0];
    if (!found) throw validationError('body.node', `no node "${ref}" in the swarm (GET /api/nodes lists them)`);
    return found;
  }
}
