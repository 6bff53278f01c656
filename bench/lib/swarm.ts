/**
 * The Swarm section of `npm run bench`: Kai with KAI_RUNTIME=swarm against
 * the 3-node test swarm of scripts/swarm-cluster.sh, side by side with the
 * manager's own API. Runs only when the cluster is up; otherwise it reports
 * why it was skipped. The bench talks only to Kai on 127.0.0.1 and to the
 * engines' unix sockets (never to a node or container address).
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient, expectStatus, json, type TimedResponse } from './http.js';
import { KaiProcess, freePort, run } from './kai-process.js';
import { percentile, pool, round, roundSummary, summarize, type Summary } from './stats.js';
import { attempts } from './attempts.js';

export const CLUSTER_ENV = '/var/run/kai-swarm/cluster.env';
const POLL_MS = 100;

export interface SwarmParams {
  image: string;
  services: number;
  running: number;
  createConcurrency: number;
  listLimit: number;
  listWarmup: number;
  listRounds: number;
  startWarmupRounds: number;
  startRounds: number;
  cliRounds: number;
}

type Side = Summary & { p95: number };

export interface SwarmResult {
  skipped?: string;
  error?: string;
  cluster?: { manager: string; engine: string; api: string; nodes: { hostname: string; role: string; state: string }[] };
  kai?: { instance: string; network: string; port: number; pid: number; healthyAfterMs: number };
  setup?: { services: number; running: number; runningByNode: Record<string, number>; wallMs: number; createMs: Summary; createStartMs: Summary };
  list?: { kai: Summary; raw: Summary; kaiCallsRaw: Summary; ratioP50: number; ratioP99: number; rawPath: string; kaiBytes: number; rawBytes: number; samples: { kai: number[]; raw: number[] } };
  createStart?: {
    kai: Side;
    raw: Side;
    cli: Side | null;
    ratioP50: number;
    ratioP95: number;
    raw_phases: { createMs: Summary; polls: Summary };
    samples: { kai: number[]; raw: number[]; cli: number[] };
    /** Where the measured tasks ran, per side. */
    nodes: { kai: Record<string, number>; raw: Record<string, number> };
  };
  memory?: { afterSetupMiB: number; afterListMiB: number; afterCreateStartMiB: number };
  cleanup?: SwarmCleanup;
}

export interface SwarmCleanup {
  ms: number;
  servicesRemoved: number;
  leftoverServices: number;
  leftoverContainers: number;
  network: 'removed' | 'absent' | 'failed';
  errors: string[];
}

interface Cluster {
  managerUrl: string;
  manager: HttpClient;
  /** hostname → engine socket path, for the leftover check and image check. */
  nodeSockets: Record<string, string>;
  env: Record<string, string>;
}

interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Status: { State: string; Err?: string };
}

const socketOf = (endpoint: string): string | null => (endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : null);
const filters = (value: Record<string, string[]>) => encodeURIComponent(JSON.stringify(value));
const withP95 = (values: number[]): Side => ({ ...roundSummary(summarize(values)), p95: round(percentile([...values].sort((a, b) => a - b), 95)) });

async function getJson<T>(client: HttpClient, route: string, what: string): Promise<T> {
  const response = await client.request('GET', route, undefined, 30_000);
  expectStatus(response, 200, what);
  return json<T>(response, what);
}

/** The cluster from scripts/swarm-cluster.sh, or why the section cannot run. */
async function findCluster(image: string): Promise<Cluster | { skip: string }> {
  if (!existsSync(CLUSTER_ENV)) return { skip: `no ${CLUSTER_ENV}: the test swarm is not up (bash scripts/swarm-cluster.sh up)` };
  const env: Record<string, string> = {};
  for (const line of readFileSync(CLUSTER_ENV, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1]) env[match[1]] = match[2] ?? '';
  }
  const managerUrl = env.KAI_SWARM_MANAGER ?? '';
  const managerSocket = socketOf(managerUrl);
  if (!managerSocket) return { skip: `KAI_SWARM_MANAGER="${managerUrl}" in ${CLUSTER_ENV} is not a unix:// socket` };
  if (!existsSync(managerSocket)) return { skip: `${managerSocket} does not exist: the test swarm is down (bash scripts/swarm-cluster.sh status)` };
  const nodeSockets: Record<string, string> = {};
  for (const pair of (env.KAI_SWARM_NODE_ENGINES ?? '').split(',').filter(Boolean)) {
    const [host, endpoint] = pair.split('=');
    const socket = socketOf(endpoint ?? '');
    if (host && socket) nodeSockets[host] = socket;
  }
  const manager = new HttpClient({ kind: 'socket', socketPath: managerSocket });
  try {
    const info = await getJson<{ Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } }>(manager, '/info', 'manager /info');
    if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) throw new Error(`${managerUrl} is not an active Swarm manager`);
    const nodes = await getJson<{ Description?: { Hostname?: string }; Status: { State?: string } }[]>(manager, '/nodes', 'manager /nodes');
    const notReady = nodes.filter((node) => node.Status.State !== 'ready').map((node) => node.Description?.Hostname);
    if (nodes.length < 3 || notReady.length > 0) throw new Error(`the swarm has ${nodes.length} nodes, not ready: ${notReady.join(', ') || 'none'}; the bench wants 3 ready nodes`);
    for (const [host, socket] of Object.entries(nodeSockets)) {
      const engine = new HttpClient({ kind: 'socket', socketPath: socket });
      const found = await engine.request('GET', `/images/${image}/json`, undefined, 5_000).finally(() => engine.close());
      if (found.status !== 200) throw new Error(`image ${image} is not on ${host}; the bench never pulls (bash scripts/swarm-load-image.sh ${image} unix://${socket})`);
    }
  } catch (error) {
    manager.close();
    // The cluster env is there but the swarm does not answer as expected: a skip, with the reason.
    return { skip: `test swarm not usable: ${(error as Error).message}` };
  }
  return { managerUrl, manager, nodeSockets, env };
}

export class SwarmBench {
  readonly result: SwarmResult = {};
  private cluster: Cluster | undefined;
  private kai: KaiProcess | undefined;
  private readonly dirs: string[] = [];
  private readonly instance: string;
  private readonly network: string;
  private readonly prefix: string;
  private cleaning: Promise<SwarmCleanup> | undefined;

  constructor(
    private readonly id: string,
    private readonly repo: string,
    /** How Kai is started: node arguments (see kaiArgs) and the `npm start` env words. */
    private readonly kaiStart: { args: string[]; env: Record<string, string> },
    private readonly params: SwarmParams,
    private readonly log: (line: string) => void,
  ) {
    this.instance = `bench-sw-${id}`;
    this.network = `kai-bench-sw-${id}`;
    this.prefix = `kbs-${id}`;
  }

  /** Runs the section; a skip is a result, a failure is thrown (after filling in what was measured). */
  async run(): Promise<SwarmResult> {
    const found = await findCluster(this.params.image);
    if ('skip' in found) {
      this.result.skipped = found.skip;
      this.log(`swarm: SKIPPED: ${found.skip}`);
      return this.result;
    }
    this.cluster = found;
    const version = await getJson<{ Version: string; ApiVersion: string }>(found.manager, '/version', 'manager /version');
    const nodes = await getJson<{ Description?: { Hostname?: string }; Spec: { Role?: string }; Status: { State?: string } }[]>(found.manager, '/nodes', 'nodes');
    this.result.cluster = {
      manager: found.managerUrl,
      engine: version.Version,
      api: version.ApiVersion,
      nodes: nodes.map((node) => ({ hostname: node.Description?.Hostname ?? '?', role: node.Spec.Role ?? '?', state: node.Status.State ?? '?' })).sort((a, b) => a.hostname.localeCompare(b.hostname)),
    };
    await this.startKai();
    await this.setup();
    await this.measureList();
    await this.measureCreateStart();
    return this.result;
  }

  /** The last lines the Swarm Kai wrote, for failure messages. */
  get logTail(): string {
    return this.kai?.logTail ?? '';
  }

  private get kaiProcess(): KaiProcess {
    if (!this.kai) throw new Error('Kai (swarm) is not running');
    return this.kai;
  }

  private async kaiCall(method: string, route: string, body: unknown, expected: number, what: string, timeoutMs = 60_000): Promise<TimedResponse> {
    const response = await this.kaiProcess.client.request(method, route, body, timeoutMs);
    expectStatus(response, expected, what);
    return response;
  }

  private async startKai(): Promise<void> {
    const cluster = this.cluster as Cluster;
    const port = await freePort();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kai-bench-sw-data-'));
    const hostRoot = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'kai-bench-sw-root-')));
    this.dirs.push(dataDir, hostRoot);
    const admin = { username: 'bench-admin', password: `${this.id}-${Math.random().toString(36).slice(2)}-pw` };
    this.log(`swarm: starting Kai (KAI_RUNTIME=swarm, DOCKER_HOST=${cluster.managerUrl}) on 127.0.0.1:${port}, instance ${this.instance}, network ${this.network}`);
    this.kai = new KaiProcess(this.repo, this.kaiStart.args, port, {
      ...this.kaiStart.env,
      KAI_RUNTIME: 'swarm',
      DOCKER_HOST: cluster.managerUrl,
      KAI_SWARM_NODE_ENGINES: cluster.env.KAI_SWARM_NODE_ENGINES ?? '',
      KAI_SWARM_NODE_ADDRESSES: cluster.env.KAI_SWARM_NODE_ADDRESSES ?? '',
      KAI_ADMIN_USERNAME: admin.username,
      KAI_ADMIN_PASSWORD: admin.password,
      HOST: '127.0.0.1',
      PORT: String(port),
      KAI_DATA_DIR: dataDir,
      KAI_HOST_ROOT: hostRoot,
      KAI_INSTANCE: this.instance,
      DOCKER_NETWORK: this.network,
      IMAGE_NAME: this.params.image,
      KAI_PULL_POLICY: 'never',
      KAI_LOG_LEVEL: 'warn',
    });
    const healthyAfterMs = round(await this.kai.waitHealthy(30_000), 0);
    await this.kai.login(admin.username, admin.password);
    const ready = await this.kai.client.request('GET', '/api/ready', undefined, 30_000);
    expectStatus(ready, 200, 'Kai (swarm) /api/ready');
    this.result.kai = { instance: this.instance, network: this.network, port, pid: this.kai.pid, healthyAfterMs };
  }

  /** N sandboxes through Kai: most created only (0 replicas), `running` of them pinned round-robin to the nodes and started. */
  private async setup(): Promise<void> {
    const { services, running, createConcurrency } = this.params;
    const hosts = (this.result.cluster?.nodes ?? []).map((node) => node.hostname);
    this.log(`swarm: creating ${services} sandboxes through Kai (${running} of them started, pinned round-robin to ${hosts.join('/')}), concurrency ${createConcurrency}...`);
    const created: number[] = [];
    const started: number[] = [];
    const startProblems: string[] = [];
    const began = performance.now();
    let done = 0;
    await pool(services, createConcurrency, async (index) => {
      // Spread the running ones over the whole creation, so they are not all the newest (the first page).
      const run = index % Math.floor(services / running) === 0 && index / Math.floor(services / running) < running;
      const body = run ? { name: `${this.prefix}-${index}`, start: true, node: hosts[(index / Math.floor(services / running)) % hosts.length] } : { name: `${this.prefix}-${index}` };
      const response = await this.kaiCall('POST', '/api/flexy', body, 201, `create #${index}`, 120_000);
      (run ? started : created).push(response.ms);
      if (run) {
        const data = json<{ data: { status: string; statusReason?: string | null } }>(response, 'create+start').data;
        if (data.status !== 'running') startProblems.push(`#${index} answered 201 with status ${data.status} after ${round(response.ms, 0)} ms (${data.statusReason ?? 'no reason'})`);
      }
      if (++done % 50 === 0) this.log(`  ${done}/${services}`);
    });
    const wallMs = performance.now() - began;
    const total = json<{ data: { total: number } }>(await this.kaiCall('GET', '/api/flexy?limit=1', undefined, 200, 'count'), 'count').data.total;
    const live = json<{ data: { total: number } }>(await this.kaiCall('GET', '/api/flexy?limit=1&status=running', undefined, 200, 'count running'), 'count running').data.total;
    const nodes = json<{ data: { nodes: { hostname: string; sandboxes: number }[] } }>(await this.kaiCall('GET', '/api/nodes', undefined, 200, 'nodes'), 'nodes').data.nodes;
    const runningByNode = Object.fromEntries(nodes.map((node) => [node.hostname, node.sandboxes]));
    if (total !== services || live !== running) {
      const byStatus: Record<string, number> = {};
      for (let offset = 0; offset < total; offset += 100) {
        const page = json<{ data: { containers: { status: string }[] } }>(await this.kaiCall('GET', `/api/flexy?limit=100&offset=${offset}`, undefined, 200, 'list all'), 'list all');
        for (const item of page.data.containers) byStatus[item.status] = (byStatus[item.status] ?? 0) + 1;
      }
      throw new Error(`after setup Kai lists ${total} sandboxes (${live} running), expected ${services} (${running}); statuses now ${JSON.stringify(byStatus)}; start answers: ${startProblems.join('; ') || 'all running'}`);
    }
    if (startProblems.length > 0) throw new Error(`create+start through Kai answered without a running sandbox: ${startProblems.join('; ')}`);
    this.result.setup = { services, running, runningByNode, wallMs: round(wallMs, 0), createMs: roundSummary(summarize(created)), createStartMs: roundSummary(summarize(started)) };
    this.log(`swarm: setup done in ${(wallMs / 1000).toFixed(1)} s; running per node ${JSON.stringify(runningByNode)}`);
  }

  /** Kai's list page against `docker service ls` (one GET /services?status=true), alternated; Kai's own three calls as info. */
  private async measureList(): Promise<void> {
    const manager = (this.cluster as Cluster).manager;
    const owned = { label: ['kai.managed=true', `kai.instance=${this.instance}`] };
    const kaiRoute = `/api/flexy?limit=${this.params.listLimit}`;
    const rawRoute = `/services?status=true&filters=${filters(owned)}`;
    const kaiCalls = [`/services?filters=${filters(owned)}`, '/tasks', '/nodes'];
    this.log(`swarm list: ${this.params.listWarmup} warm-up + ${this.params.listRounds} rounds; Kai ${kaiRoute} vs raw GET ${decodeURIComponent(rawRoute)} (info: Kai's 3 calls raw, in parallel)`);
    this.result.memory = { afterSetupMiB: round(this.kaiProcess.memory().rssMiB, 1), afterListMiB: 0, afterCreateStartMiB: 0 };
    const samples = { kai: [] as number[], raw: [] as number[], calls: [] as number[] };
    let kaiBytes = 0;
    let rawBytes = 0;
    const sides = {
      kai: async () => {
        const response = await this.kaiCall('GET', kaiRoute, undefined, 200, 'Kai list', 30_000);
        kaiBytes = response.body.length;
        return response.ms;
      },
      raw: async () => {
        const response = await manager.request('GET', rawRoute, undefined, 30_000);
        expectStatus(response, 200, 'raw service ls');
        rawBytes = response.body.length;
        return response.ms;
      },
      calls: async () => {
        const began = performance.now();
        const answers = await Promise.all(kaiCalls.map((route) => manager.request('GET', route, undefined, 30_000)));
        answers.forEach((answer, i) => expectStatus(answer, 200, `raw ${kaiCalls[i]}`));
        return performance.now() - began;
      },
    };
    const order: (keyof typeof sides)[] = ['kai', 'raw', 'calls'];
    for (let i = 0; i < this.params.listWarmup + this.params.listRounds; i++) {
      for (let k = 0; k < order.length; k++) {
        const side = order[(i + k) % order.length] as keyof typeof sides;
        const ms = await sides[side]();
        if (i >= this.params.listWarmup) samples[side].push(ms);
      }
    }
    const kaiPage = json<{ data: { total: number; containers: unknown[] } }>(await this.kaiCall('GET', kaiRoute, undefined, 200, 'Kai list'), 'Kai list');
    const raw = await getJson<{ ServiceStatus?: { RunningTasks: number } }[]>(manager, rawRoute, 'raw service ls');
    const rawRunning = raw.filter((service) => (service.ServiceStatus?.RunningTasks ?? 0) > 0).length;
    if (kaiPage.data.total !== raw.length || kaiPage.data.containers.length !== Math.min(this.params.listLimit, raw.length) || rawRunning !== this.params.running) {
      throw new Error(`swarm list mismatch: Kai total ${kaiPage.data.total} (${kaiPage.data.containers.length} on the page), service ls ${raw.length} (${rawRunning} running)`);
    }
    const kai = summarize(samples.kai);
    const rawSummary = summarize(samples.raw);
    this.result.list = {
      kai: roundSummary(kai),
      raw: roundSummary(rawSummary),
      kaiCallsRaw: roundSummary(summarize(samples.calls)),
      ratioP50: round(kai.p50 / rawSummary.p50, 3),
      ratioP99: round(kai.p99 / rawSummary.p99, 3),
      rawPath: decodeURIComponent(rawRoute),
      kaiBytes,
      rawBytes,
      samples: { kai: samples.kai.map((v) => round(v, 3)), raw: samples.raw.map((v) => round(v, 3)) },
    };
    this.result.memory.afterListMiB = round(this.kaiProcess.memory().rssMiB, 1);
  }

  /** What Kai's service-spec.ts makes, with 1 replica and its own instance label (so Kai never sees it). */
  private rawSpec(name: string): unknown {
    const labels = { 'kai.managed': 'true', 'kai.instance': `${this.instance}-raw`, 'kai.container-path': '/workspace', 'kai.env-keys': '' };
    return {
      Name: name,
      Labels: labels,
      TaskTemplate: {
        ContainerSpec: { Image: this.params.image, Env: [], Labels: { 'kai.managed': 'true', 'kai.instance': `${this.instance}-raw`, 'kai.container-path': '/workspace' }, Mounts: [], Init: true, StopGracePeriod: 10e9 },
        RestartPolicy: { Condition: 'any', Delay: 5e9, MaxAttempts: 0 },
        Placement: { Constraints: [] },
        Networks: [{ Target: this.network }],
        ForceUpdate: 0,
      },
      Mode: { Replicated: { Replicas: 1 } },
      EndpointSpec: { Mode: 'dnsrr', Ports: [9681, 8080].map((port) => ({ Protocol: 'tcp', TargetPort: port, PublishMode: 'host' })) },
    };
  }

  private async tasksOf(serviceId: string): Promise<SwarmTask[]> {
    const response = await (this.cluster as Cluster).manager.request('GET', `/tasks?filters=${filters({ service: [serviceId] })}`, undefined, 30_000);
    // The service filter of a removed service answers 404: no tasks.
    if (response.status === 404) return [];
    expectStatus(response, 200, 'tasks');
    return json<SwarmTask[]>(response, 'tasks').filter((task) => task.ServiceID === serviceId);
  }

  /** Removes a service (not timed) and waits until the manager has no task of it left, so each round starts alike. */
  private async removeService(ref: string): Promise<void> {
    const manager = (this.cluster as Cluster).manager;
    const inspected = await manager.request('GET', `/services/${encodeURIComponent(ref)}`, undefined, 30_000);
    if (inspected.status === 404) return;
    const id = json<{ ID: string }>(inspected, 'inspect service').ID;
    const removed = await manager.request('DELETE', `/services/${id}`, undefined, 60_000);
    if (removed.status !== 200 && removed.status !== 404) expectStatus(removed, 200, `remove service ${ref}`);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await this.tasksOf(id)).length > 0) await sleep(POLL_MS);
  }

  private async measureCreateStart(): Promise<void> {
    const cluster = this.cluster as Cluster;
    const { image, startWarmupRounds, startRounds, cliRounds } = this.params;
    const total = startWarmupRounds + startRounds;
    this.log(`swarm create+start: ${startWarmupRounds} warm-up + ${startRounds} rounds of Kai and raw API (order alternates), docker CLI --detach=false in ${cliRounds} of them (info)`);
    const samples = { kai: [] as number[], raw: [] as number[], cli: [] as number[] };
    const rawCreate: number[] = [];
    const rawPolls: number[] = [];
    const nodes = { kai: {} as Record<string, number>, raw: {} as Record<string, number> };
    let lastNode = '?';
    const nodeNames = new Map<string, string>();
    for (const node of await getJson<{ ID: string; Description?: { Hostname?: string } }[]>(cluster.manager, '/nodes', 'nodes')) nodeNames.set(node.ID, node.Description?.Hostname ?? node.ID);
    const sides = {
      kai: async (name: string) => {
        const response = await this.kaiCall('POST', '/api/flexy', { name, image, start: true }, 201, `Kai create+start ${name}`, 120_000);
        const status = json<{ data: { status: string } }>(response, 'Kai create+start').data.status;
        if (status !== 'running') throw new Error(`Kai create+start ${name}: status ${status}`);
        // Not timed: where the task runs (the create answer is a summary, without the node).
        const details = await this.kaiCall('GET', `/api/flexy/${name}`, undefined, 200, `details ${name}`);
        lastNode = json<{ data: { node: { hostname: string } | null } }>(details, 'details').data.node?.hostname ?? '?';
        return response.ms;
      },
      raw: async (name: string) => {
        const began = performance.now();
        const created = await cluster.manager.request('POST', '/services/create', this.rawSpec(name), 60_000);
        expectStatus(created, 201, `raw service create ${name}`);
        rawCreate.push(created.ms);
        const { ID } = json<{ ID: string }>(created, 'service create');
        for (let polls = 1; ; polls++) {
          const tasks = await this.tasksOf(ID);
          const runningTask = tasks.find((task) => task.Status.State === 'running');
          if (runningTask) {
            const ms = performance.now() - began;
            rawPolls.push(polls);
            lastNode = nodeNames.get(runningTask.NodeID ?? '') ?? '?';
            return ms;
          }
          const failed = tasks.find((task) => task.Status.State === 'failed' || task.Status.State === 'rejected');
          if (failed) throw new Error(`raw service ${name}: task ${failed.Status.State}: ${failed.Status.Err ?? ''}`);
          if (performance.now() - began > 60_000) throw new Error(`raw service ${name}: no running task within 60 s`);
          await sleep(POLL_MS);
        }
      },
      cli: async (name: string) => {
        const args = ['-H', cluster.managerUrl, 'service', 'create', '--detach=false', '--quiet', '--name', name, '--replicas', '1', '--init',
          '--publish', 'mode=host,target=9681', '--publish', 'mode=host,target=8080', '--network', this.network,
          '--label', 'kai.managed=true', '--label', `kai.instance=${this.instance}-raw`, '--container-label', 'kai.managed=true', '--container-label', `kai.instance=${this.instance}-raw`,
          '--restart-condition', 'any', '--restart-delay', '5s', '--stop-grace-period', '10s', image];
        const result = await run('docker', args, { timeoutMs: 120_000 });
        if (result.code !== 0) throw new Error(`docker service create ${name}: ${result.stderr.trim().slice(0, 400)}`);
        return result.ms;
      },
    };
    for (let r = 0; r < total; r++) {
      const record = r >= startWarmupRounds;
      const order: (keyof typeof sides)[] = r % 2 === 0 ? ['kai', 'raw'] : ['raw', 'kai'];
      if (record && r - startWarmupRounds < cliRounds) order.push('cli');
      for (const side of order) {
        const name = `${this.prefix}-${side}${r}`;
        const ms = await sides[side](name);
        await this.removeService(name);
        await sleep(200);
        if (record) samples[side].push(ms);
        if (record && side !== 'cli') nodes[side][lastNode] = (nodes[side][lastNode] ?? 0) + 1;
        else if (!record && side === 'raw') {
          rawCreate.pop();
          rawPolls.pop();
        }
      }
      this.log(`  round ${r + 1}/${total}${record ? '' : ' (warm-up)'}`);
    }
    const kai = withP95(samples.kai);
    const raw = withP95(samples.raw);
    this.result.createStart = {
      kai,
      raw,
      cli: samples.cli.length > 0 ? withP95(samples.cli) : null,
      ratioP50: round(kai.p50 / raw.p50, 3),
      ratioP95: round(kai.p95 / raw.p95, 3),
      raw_phases: { createMs: roundSummary(summarize(rawCreate)), polls: roundSummary(summarize(rawPolls)) },
      samples: { kai: samples.kai.map((v) => round(v, 1)), raw: samples.raw.map((v) => round(v, 1)), cli: samples.cli.map((v) => round(v, 1)) },
      nodes,
    };
    if (this.result.memory) this.result.memory.afterCreateStartMiB = round(this.kaiProcess.memory().rssMiB, 1);
  }

  /** Stops Kai, removes every service of the run and the overlay network, checks the nodes for leftovers. Once only. */
  cleanup(): Promise<SwarmCleanup> {
    this.cleaning ??= this.doCleanup().then((result) => (this.result.cleanup = result));
    return this.cleaning;
  }

  private async doCleanup(): Promise<SwarmCleanup> {
    const began = performance.now();
    const { errors, attempt } = attempts();
    let servicesRemoved = 0;
    let leftoverServices = 0;
    let leftoverContainers = 0;
    let network: SwarmCleanup['network'] = 'absent';
    await attempt('stop Kai', async () => this.kai?.stop());
    const cluster = this.cluster;
    if (cluster) {
      const ours = async (): Promise<string[]> => {
        const lists = await Promise.all([
          getJson<{ ID: string }[]>(cluster.manager, `/services?filters=${filters({ label: [`kai.instance=${this.instance}`] })}`, 'services'),
          getJson<{ ID: string }[]>(cluster.manager, `/services?filters=${filters({ label: [`kai.instance=${this.instance}-raw`] })}`, 'services'),
          getJson<{ ID: string; Spec: { Name: string } }[]>(cluster.manager, `/services?filters=${filters({ name: [this.prefix] })}`, 'services').then((all) => all.filter((s) => s.Spec.Name.startsWith(`${this.prefix}-`))),
        ]);
        return [...new Set(lists.flat().map((service) => service.ID))];
      };
      await attempt('remove services', async () => {
        const ids = await ours();
        if (ids.length > 0) this.log(`swarm cleanup: removing ${ids.length} services...`);
        await pool(ids.length, 8, async (i) => {
          const response = await cluster.manager.request('DELETE', `/services/${ids[i]}`, undefined, 60_000);
          if (response.status !== 200 && response.status !== 404) expectStatus(response, 200, `remove service ${ids[i]}`);
        });
        servicesRemoved = ids.length;
        leftoverServices = (await ours()).length;
      });
      await attempt('wait for task containers to go', async () => {
        const deadline = Date.now() + 60_000;
        const label = filters({ label: [`kai.instance`] });
        for (;;) {
          let count = 0;
          for (const socket of Object.values(cluster.nodeSockets)) {
            const engine = new HttpClient({ kind: 'socket', socketPath: socket });
            const containers = await getJson<{ Labels?: Record<string, string> }[]>(engine, `/containers/json?all=1&filters=${label}`, 'node containers').finally(() => engine.close());
            count += containers.filter((c) => c.Labels?.['kai.instance']?.startsWith(this.instance)).length;
          }
          leftoverContainers = count;
          if (count === 0 || Date.now() > deadline) break;
          await sleep(500);
        }
      });
      await attempt('remove network', async () => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const response = await cluster.manager.request('DELETE', `/networks/${this.network}`, undefined, 30_000);
          if (response.status === 204 || response.status === 200) return void (network = 'removed');
          if (response.status === 404) return void (network = 'absent');
          // "network is in use" while the last task leaves it.
          if (Date.now() > deadline) {
            network = 'failed';
            throw new Error(`HTTP ${response.status}: ${response.body.slice(0, 300)}`);
          }
          await sleep(500);
        }
      });
      cluster.manager.close();
    }
    for (const dir of this.dirs) await attempt(`remove ${dir}`, async () => rmSync(dir, { recursive: true, force: true }));
    return { ms: round(performance.now() - began, 0), servicesRemoved, leftoverServices, leftoverContainers, network, errors };
  }
}
