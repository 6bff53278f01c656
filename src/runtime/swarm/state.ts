import type { FlexyDetails, FlexyNodeRef, FlexyPort, FlexyStatus, FlexySummary, FlexyVolume } from '../types.js';
import { LABEL_CONTAINER_PATH, LABEL_ENV_KEYS, LABEL_HOST_PATH } from '../docker/labels.js';
import type { ClusterView, SwarmNode, SwarmService, SwarmTask, TaskState } from './engine-types.js';

/** Set on a service's spec at its first start: with no tasks left, it tells `stopped` from `created`. */
export const LABEL_STARTED = 'kai.started';
/** The node a sandbox is pinned to, by hostname, for display while no task is placed. */
export const LABEL_NODE = 'kai.node';

const BEFORE_RUNNING: ReadonlySet<TaskState> = new Set(['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting']);
const FAILED: ReadonlySet<TaskState> = new Set(['failed', 'rejected']);

/** What a sandbox is doing, worked out from its service, its newest tasks and their nodes. */
export interface SandboxState {
  status: FlexyStatus;
  reason: string | null;
  /** The task the status describes (the newest), or null before any was made. */
  task: SwarmTask | null;
  node: SwarmNode | null;
}

export function replicasOf(service: SwarmService): number {
  return service.Spec.Mode.Replicated?.Replicas ?? 0;
}

export function imageOf(service: SwarmService): string {
  // The manager may pin the image to a digest ("name:tag@sha256:..."); users gave the name.
  return service.Spec.TaskTemplate.ContainerSpec.Image.split('@')[0] ?? '';
}

export function hostnameOf(node: SwarmNode | null | undefined): string {
  return node?.Description?.Hostname ?? node?.ID ?? '';
}

function newestFirst(tasks: SwarmTask[]): SwarmTask[] {
  if (tasks.length < 2) return tasks;
  return tasks
    .map((task) => ({ task, created: Date.parse(task.CreatedAt) }))
    .sort((a, b) => b.created - a.created || b.task.Version.Index - a.task.Version.Index)
    .map(({ task }) => task);
}

/** The engine's reason in words users can act on; a missing image names the node that lacks it. */
function explain(task: SwarmTask, node: SwarmNode | null, image: string): string {
  const where = node ? `node ${hostnameOf(node)}` : 'its node';
  const err = task.Status.Err ?? task.Status.Message ?? task.Status.State;
  if (/no such image|pull access denied|repository does not exist|manifest unknown/i.test(err)) {
    return `image "${image}" is not on ${where}; load it there (scripts/swarm-load-image.sh)`;
  }
  return `${err} (on ${where})`;
}

function nodeDown(node: SwarmNode | null): boolean {
  return node !== null && node.Status.State !== undefined && node.Status.State !== 'ready';
}

export function sandboxState(service: SwarmService, view: ClusterView): SandboxState {
  const tasks = newestFirst(view.tasksByService.get(service.ID) ?? []);
  const nodeOf = (task: SwarmTask | undefined) => (task?.NodeID ? (view.nodes.get(task.NodeID) ?? null) : null);
  const image = imageOf(service);

  if (replicasOf(service) === 0) {
    // Scaled to zero: a task still running is on its way down.
    const live = tasks.find((task) => task.Status.State === 'running' && !nodeDown(nodeOf(task)));
    if (live) return { status: 'running', reason: null, task: live, node: nodeOf(live) };
    const last = tasks[0] ?? null;
    const started = service.Spec.Labels?.[LABEL_STARTED] === 'true' || last !== null;
    return { status: started ? 'stopped' : 'created', reason: null, task: last, node: last ? nodeOf(last) : null };
  }

  const current = tasks[0];
  if (!current) return { status: 'starting', reason: 'waiting for the scheduler', task: null, node: null };
  const node = nodeOf(current);
  const state = current.Status.State;
  const at = { task: current, node };

  if (state === 'running') {
    if (nodeDown(node)) return { status: 'error', reason: `node ${hostnameOf(node)} is ${node?.Status.State}`, ...at };
    return { status: 'running', reason: null, ...at };
  }
  if (FAILED.has(state)) return { status: 'error', reason: explain(current, node, image), ...at };
  if (state === 'orphaned') return { status: 'error', reason: `node ${hostnameOf(node)} is gone`, ...at };
  if (state === 'complete') return { status: 'restarting', reason: 'the main process exited; the engine starts it again', ...at };

  // Before running (or a replacement on its way): say so, unless something since the last change explains a wait.
  const since = Date.parse(service.UpdatedAt);
  const previous = tasks.slice(1).find((task) => Date.parse(task.CreatedAt) >= since);
  if (previous && FAILED.has(previous.Status.State)) {
    return { status: 'error', reason: explain(previous, nodeOf(previous), image), task: previous, node: nodeOf(previous) };
  }
  const stranded = tasks.slice(1).find((task) => task.Status.State === 'running' && nodeDown(nodeOf(task)));
  if (stranded) {
    return { status: 'error', reason: `node ${hostnameOf(nodeOf(stranded))} is ${nodeOf(stranded)?.Status.State}`, task: stranded, node: nodeOf(stranded) };
  }
  if (state === 'pending' && current.Status.Err) return { status: 'error', reason: explain(current, node, image), ...at };
  if (BEFORE_RUNNING.has(state) || state === 'shutdown' || state === 'remove') {
    return { status: 'starting', reason: current.Status.Message ?? state, ...at };
  }
  return { status: 'error', reason: `task state ${state}`, ...at };
}

/** Where Kai reaches ports published on a node: an override by hostname or id, else the node's own address. */
export type NodeAddressOf = (node: SwarmNode) => string;

function portsOf(state: SandboxState, addressOf: NodeAddressOf): FlexyPort[] {
  if (state.status !== 'running' || !state.task || !state.node) return [];
  const hostIp = addressOf(state.node);
  const ports = new Map<string, FlexyPort>();
  for (const port of state.task.Status.PortStatus?.Ports ?? []) {
    if (!port.PublishedPort || !port.TargetPort) continue;
    const protocol = port.Protocol ?? 'tcp';
    // The engine lists a host-mode port once per address family (0.0.0.0 and ::): keep one.
    ports.set(`${port.TargetPort}/${protocol}`, { containerPort: port.TargetPort, hostPort: port.PublishedPort, hostIp, protocol });
  }
  return [...ports.values()];
}

/** Whole seconds, like the Docker runtime, so a list item and its details agree. */
function isoSeconds(value: string): string {
  return new Date(Math.floor(Date.parse(value) / 1000) * 1000).toISOString();
}

export function summaryOf(service: SwarmService, state: SandboxState, addressOf: NodeAddressOf): FlexySummary {
  const labels = service.Spec.Labels ?? {};
  return {
    id: service.ID,
    name: service.Spec.Name,
    status: state.status,
    image: imageOf(service),
    createdAt: isoSeconds(service.CreatedAt),
    hostPath: labels[LABEL_HOST_PATH] ?? null,
    containerPath: labels[LABEL_CONTAINER_PATH] ?? null,
    ports: portsOf(state, addressOf),
  };
}

function volumesOf(service: SwarmService): FlexyVolume[] {
  return (service.Spec.TaskTemplate.ContainerSpec.Mounts ?? [])
    .filter((mount) => mount.Type === 'bind' && mount.Source && mount.Target)
    .map((mount) => ({ hostPath: mount.Source ?? '', containerPath: mount.Target ?? '', mode: mount.ReadOnly ? ('ro' as const) : ('rw' as const) }));
}

function nodeRefOf(service: SwarmService, state: SandboxState): FlexyNodeRef | null {
  if (state.node && state.status !== 'stopped' && state.status !== 'created') return { id: state.node.ID, hostname: hostnameOf(state.node) };
  const pinned = service.Spec.TaskTemplate.Placement?.Constraints?.find((constraint) => constraint.startsWith('node.id=='));
  if (!pinned) return null;
  return { id: pinned.slice('node.id=='.length), hostname: service.Spec.Labels?.[LABEL_NODE] ?? '' };
}

export function detailsOf(service: SwarmService, state: SandboxState, addressOf: NodeAddressOf, network: string | null): FlexyDetails {
  const labels = service.Spec.Labels ?? {};
  const task = state.task;
  const timestamp = task?.Status.Timestamp && !task.Status.Timestamp.startsWith('0001') ? new Date(task.Status.Timestamp).toISOString() : null;
  const ended = state.status === 'stopped' || state.status === 'error';
  return {
    ...summaryOf(service, state, addressOf),
    statusReason: state.reason,
    node: nodeRefOf(service, state),
    volumes: volumesOf(service),
    envKeys: (labels[LABEL_ENV_KEYS] ?? '').split(',').filter((key) => key !== ''),
    network,
    startedAt: state.status === 'running' ? timestamp : null,
    finishedAt: ended ? timestamp : null,
    exitCode: ended ? (task?.Status.ContainerStatus?.ExitCode ?? null) : null,
  };
}
