/**
 * The narrow interface between Kai and a container engine. Routes and
 * services speak only this; a Docker, Swarm or Kubernetes runtime implements
 * it and keeps every engine detail (labels, port bindings, networks) inside.
 */

/** What users see; the Docker mapping is documented in docs/api.md. */
export type FlexyStatus = 'created' | 'running' | 'paused' | 'restarting' | 'stopped' | 'removing' | 'error';

/** The statuses a list may be filtered by. */
export const LISTABLE_STATUSES = ['running', 'stopped', 'paused', 'created', 'restarting'] as const;
export type ListableStatus = (typeof LISTABLE_STATUSES)[number];

export interface FlexySummary {
  id: string;
  name: string;
  status: FlexyStatus;
  image: string;
  createdAt: string;
  hostPath: string | null;
  containerPath: string | null;
}

export interface FlexyPort {
  containerPort: number;
  hostPort: number;
  hostIp: string;
  protocol: string;
}

export interface FlexyVolume {
  hostPath: string;
  containerPath: string;
  mode: 'rw' | 'ro';
}

export interface FlexyDetails extends FlexySummary {
  ports: FlexyPort[];
  volumes: FlexyVolume[];
  /** Names only: values may hold secrets. */
  envKeys: string[];
  network: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
}

export interface FlexyCreateSpec {
  name: string;
  image: string;
  /** Already confined and resolved by the caller. */
  hostPath: string | null;
  containerPath: string;
  env: Record<string, string>;
}

export interface FlexyAction {
  id: string;
  name: string;
}

/** Where a container port can be reached from Kai. */
export interface FlexyEndpoint {
  id: string;
  name: string;
  status: FlexyStatus;
  /** null when the container is not running or the port is not reachable. */
  address: { host: string; port: number } | null;
}

/** A process with a TTY inside a container, started for Kai's built-in terminal. */
export interface TerminalProcess {
  containerId: string;
  /** Raw TTY bytes both ways. */
  stream: NodeJS.ReadWriteStream;
  resize(cols: number, rows: number): Promise<void>;
  /** Ends the shell and everything started from it (the engine has no exec-kill). */
  kill(): Promise<void>;
}

export interface TerminalOptions {
  /** Unique marker of this terminal, used to find its processes to end them. */
  sessionId: string;
  cols: number;
  rows: number;
}

export interface Runtime {
  /** Resolves when the engine answers; throws DOCKER_ERROR (503) when it cannot be reached. */
  ping(): Promise<void>;
  /** Makes the engine ready for Kai (network present). Safe to call repeatedly. */
  prepare(): Promise<void>;
  /** Kai's containers, newest first. */
  list(filter: { status?: ListableStatus }): Promise<FlexySummary[]>;
  /** `ref` is an id, a unique id prefix or a name; only Kai's containers are found. */
  get(ref: string): Promise<FlexyDetails>;
  create(spec: FlexyCreateSpec): Promise<FlexyDetails>;
  start(ref: string): Promise<FlexyAction>;
  stop(ref: string): Promise<FlexyAction>;
  restart(ref: string): Promise<FlexyAction>;
  remove(ref: string): Promise<FlexyAction>;
  /** Where `containerPort` of a Kai container can be reached (published port or network name, by configuration). */
  endpoint(ref: string, containerPort: number): Promise<FlexyEndpoint>;
  /** A login shell (bash if present, else sh) with a TTY in the container's working folder. */
  openTerminal(ref: string, options: TerminalOptions): Promise<TerminalProcess>;
  /** Current status, or null when the container is gone. */
  status(id: string): Promise<FlexyStatus | null>;
  close(): Promise<void>;
}
