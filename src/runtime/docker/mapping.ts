import type Dockerode from 'dockerode';
import type { FlexyDetails, FlexyPort, FlexyStatus, FlexySummary, FlexyVolume, ListableStatus } from '../types.js';
import { LABEL_CONTAINER_PATH, LABEL_ENV_KEYS, LABEL_HOST_PATH } from './labels.js';

const STATUS_BY_DOCKER_STATE: Record<string, FlexyStatus> = {
  running: 'running',
  exited: 'stopped',
  created: 'created',
  paused: 'paused',
  restarting: 'restarting',
  dead: 'error',
  removing: 'removing',
};

export function toFlexyStatus(dockerState: string | undefined): FlexyStatus {
  return STATUS_BY_DOCKER_STATE[dockerState ?? ''] ?? 'error';
}

const DOCKER_STATE_BY_FILTER: Record<ListableStatus, string> = {
  running: 'running',
  stopped: 'exited',
  paused: 'paused',
  created: 'created',
  restarting: 'restarting',
};

export function toDockerStateFilter(status: ListableStatus): string {
  return DOCKER_STATE_BY_FILTER[status];
}

/** Docker reports names with a leading slash. */
export function plainName(name: string | undefined): string {
  return (name ?? '').replace(/^\//, '');
}

/** Whole seconds, so a list item and its details carry the same timestamp. */
function isoSeconds(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString();
}

function optionalIso(value: string | undefined): string | null {
  if (!value || value.startsWith('0001-01-01')) return null;
  return new Date(value).toISOString();
}

export function summaryFromListItem(item: Dockerode.ContainerInfo): FlexySummary {
  const labels = item.Labels ?? {};
  return {
    id: item.Id,
    name: plainName(item.Names[0]),
    status: toFlexyStatus(item.State),
    image: item.Image,
    createdAt: isoSeconds(new Date(item.Created * 1000)),
    hostPath: labels[LABEL_HOST_PATH] ?? null,
    containerPath: labels[LABEL_CONTAINER_PATH] ?? null,
    ports: (item.Ports ?? [])
      .filter((port) => port.PublicPort)
      .map((port) => ({ containerPort: port.PrivatePort, hostPort: port.PublicPort, hostIp: port.IP ?? '', protocol: port.Type })),
  };
}

function portsFromInspect(info: Dockerode.ContainerInspectInfo): FlexyPort[] {
  const ports: FlexyPort[] = [];
  for (const [spec, bindings] of Object.entries(info.NetworkSettings?.Ports ?? {})) {
    const [port, protocol = 'tcp'] = spec.split('/');
    for (const binding of bindings ?? []) {
      ports.push({
        containerPort: Number(port),
        hostPort: Number(binding.HostPort),
        hostIp: binding.HostIp,
        protocol,
      });
    }
  }
  return ports;
}

function volumesFromInspect(info: Dockerode.ContainerInspectInfo): FlexyVolume[] {
  return (info.Mounts ?? [])
    .filter((mount) => mount.Type === 'bind')
    .map((mount) => ({
      hostPath: mount.Source,
      containerPath: mount.Destination,
      mode: mount.RW ? ('rw' as const) : ('ro' as const),
    }));
}

export function detailsFromInspect(info: Dockerode.ContainerInspectInfo): FlexyDetails {
  const labels = info.Config.Labels ?? {};
  const state = info.State;
  const status = toFlexyStatus(state.Status);
  const networks = Object.keys(info.NetworkSettings?.Networks ?? {});
  return {
    id: info.Id,
    name: plainName(info.Name),
    status,
    image: info.Config.Image,
    createdAt: isoSeconds(new Date(info.Created)),
    hostPath: labels[LABEL_HOST_PATH] ?? null,
    containerPath: labels[LABEL_CONTAINER_PATH] ?? null,
    ports: portsFromInspect(info),
    statusReason: status === 'error' && state.Error ? state.Error : null,
    node: null,
    volumes: volumesFromInspect(info),
    envKeys: (labels[LABEL_ENV_KEYS] ?? "").split(",").filter((key) => key !== ""),
    network: info.HostConfig.NetworkMode ?? networks[0] ?? null,
    startedAt: optionalIso(state.StartedAt),
    finishedAt: status === 'running' ? null : optionalIso(state.FinishedAt),
    exitCode: status === 'stopped' || status === 'error' ? state.ExitCode : null,
  };
}
