/**
 * The narrow interface between Kai and a container engine. Routes and
 * services speak only this; a Docker, Swarm or Kubernetes runtime implements
 * it and keeps every engine detail (labels, port bindings, networks) inside.
 */

/** What users see; the Docker and Swarm mappings are documented in docs/api.md. */
export const FLEXY_STATUSES = ['created', 'starting', 'running', 'paused', 'restarting', 'stopped', 'removing', 'error'] as const;
export type FlexyStatus = (typeof FLEXY_STATUSES)[number];

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
  /** Published ports; the engine assigns them when the container starts. */
  ports: FlexyPort[];
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

/** The machine a sandbox runs on (a Swarm node; null on a single engine). */
export interface FlexyNodeRef {
  id: string;
  hostname: string;
}

export interface FlexyDetails extends FlexySummary {
  /** Why the status is `error` or `starting`, in words (the engine's reason), else null. */
  statusReason: string | null;
  node: FlexyNodeRef | null;
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
  /** Node id or hostname to pin the sandbox to; null lets the engine place it. */
  node: string | null;
}

/** One machine of the engine Kai runs sandboxes on, as GET /api/nodes shows it. */
export interface FlexyNode {
  id: string;
  hostname: string;
  /** Where Kai reaches ports published on this node. */
  address: string;
  role: 'manager' | 'worker';
  /** ready, down, unknown or disconnected, as the engine reports it. */
  state: string;
  /** active, pause or drain. */
  availability: string;
  /** Kai's sandboxes with a running or starting task on this node. */
  sandboxes: number;
  cpus: number;
  memoryBytes: number;
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

/** Engine-level container changes Kai follows; `kill` only hints that a following `die` was requested. */
export const ENGINE_ACTIONS = ['create', 'start', 'kill', 'die', 'stop', 'restart', 'pause', 'unpause', 'destroy'] as const;
export type EngineAction = (typeof ENGINE_ACTIONS)[number];

/** One change to one of Kai's containers, as the engine reported it. */
export interface EngineEvent {
  action: EngineAction;
  id: string;
  /** Engine time, milliseconds since the epoch (fractional). */
  time: number;
  /** Exit code on `die`, else null. */
  exitCode: number | null;
  /** What the event itself says about the container (name, image, labels); status follows from the action. */
  container: FlexySummary;
}

/**
 * One subscription to the engine's event stream. Iteration ends (or throws)
 * when the connection drops; close() ends it from Kai's side.
 */
export interface EngineEventStream extends AsyncIterable<EngineEvent> {
  close(): void;
}

export interface LogOptions {
  /** Lines from the end; 'all' for everything. */
  tail: number | 'all';
  /** Only lines at or after this time (ms since the epoch). */
  since?: number | undefined;
  timestamps: boolean;
  follow: boolean;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  /** ISO-8601 with the engine's precision when timestamps were asked for, else null. */
  timestamp: string | null;
}

/** Log lines in order; ends when the logs end (the container stopped, when following). close() stops early. */
export interface LogStream extends AsyncIterable<LogLine> {
  containerId: string;
  /** TTY containers have one raw stream: every line is reported as stdout. */
  tty: boolean;
  close(): void;
}

export interface FlexyStats {
  id: string;
  read: string;
  /** Percent of one CPU (100 = one full core), as `docker stats` shows it. */
  cpuPercent: number;
  onlineCpus: number;
  memory: { usedBytes: number; limitBytes: number; percent: number };
  network: { rxBytes: number; txBytes: number };
  blockIo: { readBytes: number; writeBytes: number };
  pids: number;
}

export interface StatsStream extends AsyncIterable<FlexyStats> {
  close(): void;
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
  /** Subscribes to changes of Kai's own containers; resolves once the engine has accepted the subscription. */
  watchEvents(): Promise<EngineEventStream>;
  /** Recent (and with `follow`, upcoming) log lines, stdout and stderr told apart for non-TTY containers. */
  logs(ref: string, options: LogOptions): Promise<LogStream>;
  /** One resource-use sample of a running container (CONFLICT when it is not running). */
  stats(ref: string): Promise<FlexyStats>;
  /** Samples about once a second until closed or the container stops. */
  statsStream(ref: string): Promise<StatsStream>;
  /** The machines sandboxes can run on: the cluster's nodes, or the one engine. */
  nodes(): Promise<FlexyNode[]>;
  close(): Promise<void>;
}
