/**
 * Kai benchmark (`npm run bench`): Kai as a separate process against the
 * local Docker engine, side by side with the engine's own API and the docker
 * CLI, in one run. Prints a table and writes bench/results/latest.json.
 * The shell figures (issue 4) compare ttyd through Kai's proxy with ttyd on
 * the sandbox's published port, and time Kai's built-in terminal next to the
 * engine's own TTY exec (bench/lib/shell-bench.ts).
 *
 * Knobs (environment, all optional; the defaults are the reference run):
 *   BENCH_CONTAINERS=300      containers created through Kai before the list bench
 *   BENCH_CREATE_CONCURRENCY=8
 *   BENCH_LIST_WARMUP=20 BENCH_LIST_ROUNDS=200
 *   BENCH_START_ROUNDS=15     measured create+start rounds per side (after one warm-up round)
 *   BENCH_ECHO_ROUNDS=300     measured shell echo round trips per side (after 30 warm-up ones)
 *   BENCH_BULK_BYTES=60000000 BENCH_BULK_ROUNDS=4           ttyd bulk output per round, rounds per side
 *   BENCH_TERMINAL_BYTES=104857600 BENCH_TERMINAL_ROUNDS=3  built-in terminal output per round, rounds
 *   BENCH_TERMINALS=50 BENCH_TERMINAL_SANDBOXES=5           open terminals for the RSS figure, over N sandboxes
 *   BENCH_BUDGET_MS=480000    hard limit for the whole run; cleanup still runs (780000 when the swarm section may run)
 *   BENCH_SWARM=auto          the Swarm section (bench/lib/swarm.ts): auto = run it when the test swarm of
 *                             scripts/swarm-cluster.sh is up, else report it skipped with the reason; 0 = skip;
 *                             only = the Swarm section alone (`npm run bench:swarm`), results in bench/results/swarm-latest.json
 *   BENCH_SWARM_SERVICES=300 BENCH_SWARM_RUNNING=30 BENCH_SWARM_START_ROUNDS=15 BENCH_SWARM_CLI_ROUNDS=3
 *   KAI_BENCH_BUILD=0         skip `npm run build` (use dist/ if present, else tsx)
 *   KAI_BENCH_MODE=tsx        run src/ through tsx instead (no build)
 *   KAI_BENCH_NODE_FLAGS="…"  extra node flags for the Kai process only, after those of `npm start`,
 *                             e.g. --max-semi-space-size=1 (to try a fix; the reference run uses none)
 *
 * Kai is started the way `npm start` does: package.json "scripts.start" is
 * read and its node flags are used (see readStartCommand).
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DOCKER_SOCKET, Engine, dockerRmForce } from './lib/engine.js';
import { expectStatus, json, type TimedResponse } from './lib/http.js';
import { printEvents } from './events.js';
import { measureEvents, type EventsResult } from './lib/events-bench.js';
import { KaiProcess, freePort, kaiArgs, prepareKai, readStartCommand, run, type KaiMode, type StartCommand } from './lib/kai-process.js';
import {
  createSandbox,
  measureEcho,
  measureProxyBulk,
  measureTerminalBulk,
  measureTerminalsRss,
  publishedPort,
  waitForTtyd,
  type EchoResult,
  type ProxyBulkResult,
  type ShellContext,
  type TerminalBulkResult,
  type TerminalsRssResult,
} from './lib/shell-bench.js';
import { pool, round, roundSummary, summarize, type Summary } from './lib/stats.js';
import { CLUSTER_ENV, SwarmBench, type SwarmResult } from './lib/swarm.js';
import { attempts } from './lib/attempts.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function swarmMode(): 'auto' | 'off' | 'only' {
  const raw = process.env.BENCH_SWARM ?? 'auto';
  if (raw === '' || raw === 'auto') return 'auto';
  if (raw === '0') return 'off';
  if (raw === 'only') return 'only';
  throw new Error(`BENCH_SWARM must be auto, 0 or only, got "${raw}"`);
}
const SWARM_MODE = swarmMode();
const RESULTS_FILE = path.join(REPO, 'bench', 'results', SWARM_MODE === 'only' ? 'swarm-latest.json' : 'latest.json');

function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return value;
}

const PARAMS = {
  listImage: 'kai-test-busybox:latest',
  sandboxImage: 'flexy-dev-sandbox:latest',
  containers: intEnv('BENCH_CONTAINERS', 300),
  createConcurrency: intEnv('BENCH_CREATE_CONCURRENCY', 8),
  listLimit: 100,
  listWarmup: intEnv('BENCH_LIST_WARMUP', 20, 0),
  listRounds: intEnv('BENCH_LIST_ROUNDS', 200),
  startWarmupRounds: 1,
  startRounds: intEnv('BENCH_START_ROUNDS', 15),
  shell: {
    echoWarmup: 30,
    echoRounds: intEnv('BENCH_ECHO_ROUNDS', 300),
    bulkBytes: intEnv('BENCH_BULK_BYTES', 60_000_000),
    bulkWarmupBytes: 10_000_000,
    bulkRounds: intEnv('BENCH_BULK_ROUNDS', 4),
    terminalBytes: intEnv('BENCH_TERMINAL_BYTES', 100 * 2 ** 20),
    terminalWarmupBytes: 10 * 2 ** 20,
    terminalRounds: intEnv('BENCH_TERMINAL_ROUNDS', 3),
    terminals: intEnv('BENCH_TERMINALS', 50),
    terminalSandboxes: intEnv('BENCH_TERMINAL_SANDBOXES', 5),
  },
  swarm: {
    mode: SWARM_MODE,
    image: 'kai-test-busybox:latest',
    services: intEnv('BENCH_SWARM_SERVICES', 300),
    running: intEnv('BENCH_SWARM_RUNNING', 30),
    createConcurrency: intEnv('BENCH_CREATE_CONCURRENCY', 8),
    listLimit: 100,
    listWarmup: intEnv('BENCH_LIST_WARMUP', 20, 0),
    listRounds: intEnv('BENCH_LIST_ROUNDS', 200),
    startWarmupRounds: 1,
    startRounds: intEnv('BENCH_SWARM_START_ROUNDS', 15),
    cliRounds: intEnv('BENCH_SWARM_CLI_ROUNDS', 3, 0),
  },
  budgetMs: intEnv('BENCH_BUDGET_MS', SWARM_MODE !== 'off' && existsSync(CLUSTER_ENV) ? 13 * 60_000 : 8 * 60_000),
  kaiNodeFlags: (process.env.KAI_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean),
};

const TARGETS = {
  idleRssMiB: 80,
  listRatio: 1.3,
  createStartRatio: 1.15,
  /** Kai's proxy may add at most this much to ttyd's echo round trip p50. */
  shellEchoAddedMs: 0.5,
  /** Bulk output through the proxy: at least this fraction of direct. */
  shellBulkRatio: 0.9,
  terminalMiBps: 50,
  terminalsRssMiB: 150,
  /** Docker state change (start of the engine call) to an SSE client, p50. */
  eventSseMs: 50,
  /** Docker state change (the engine's own event) to a webhook's first attempt, p50. */
  eventWebhookMs: 250,
  /** Swarm: Kai's list page against `docker service ls`, and create+start against the raw API, p50 and p99/p95. */
  swarmListRatio: 1.3,
  swarmCreateStartRatio: 1.15,
};

type Verdict = 'PASS' | 'MISS' | 'info';

interface Figure {
  key: string;
  label: string;
  kai: number;
  reference: number | null;
  referenceLabel: string | null;
  unit: string;
  /** How the "Kai vs ref" column shows Kai against the reference (Kai/reference or Kai − reference); 'none' when there is none. */
  comparison: 'ratio' | 'difference' | 'none';
  /** The value the verdict tests against the target: the figure itself, Kai/reference or Kai − reference. */
  compared: number;
  target: string;
  verdict: Verdict;
}

interface CreateStartSide {
  samples: number[];
  summary: Summary | null;
  /** Per-phase times for the CLI and raw API sides. */
  phases?: { create: Summary; start: Summary };
}

interface Results {
  schema: 1;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  ok: boolean;
  error?: string;
  machine: Record<string, unknown>;
  parameters: typeof PARAMS;
  targets: typeof TARGETS;
  kai: { mode?: KaiMode; modeNote?: string; npmStart?: string; command?: string; auth?: 'bearer' | 'none'; buildMs?: number | null; instance: string; network: string; port?: number; pid?: number; healthyAfterMs?: number };
  memory: { idle?: { rssMiB: number; hwmMiB: number }; afterList?: { rssMiB: number; hwmMiB: number }; afterCreateStart?: { rssMiB: number; hwmMiB: number }; afterShell?: { rssMiB: number; hwmMiB: number } };
  create?: { count: number; concurrency: number; wallMs: number; perSecond: number; latency: Summary; listedByKai: number; listedByEngine: number };
  list?: { kai: Summary; raw: Summary; ratioP50: number; ratioP99: number; kaiBytes: number; rawBytes: number; samples: { kai: number[]; raw: number[] } };
  createStart?: { kai: CreateStartSide; cli: CreateStartSide; api: CreateStartSide; ratioP50: number; ratioMean: number; order: string };
  shell?: {
    sandbox?: { name: string; image: string; publishedShellPort: number };
    terminals?: TerminalsRssResult;
    echo?: EchoResult;
    bulk?: ProxyBulkResult;
    terminalBulk?: TerminalBulkResult;
  };
  events?: EventsResult;
  swarm?: SwarmResult;
  figures: Figure[];
  /** 1/5/15-minute load averages: at the start, at the start of each section, at the end. */
  load: { before: number[]; sections: Record<string, number[]>; after?: number[] };
  cleanup?: { ms: number; containersRemoved: number; leftovers: number; network: 'removed' | 'absent' | 'failed'; errors: string[] };
}

const log = (line: string) => console.log(`[bench] ${line}`);

function gitInfo(): { commit: string; dirtyFiles: number } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO, encoding: 'utf8' }).trim();
    return { commit, dirtyFiles: dirty === '' ? 0 : dirty.split('\n').length };
  } catch {
    return { commit: 'unknown', dirtyFiles: -1 };
  }
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

function loadavg(): number[] {
  return os.loadavg().map((value) => round(value, 2));
}

/** Everything the run made, so cleanup can find it whatever step failed. */
interface RunState {
  id: string;
  instance: string;
  network: string;
  /** Prefix of every container name this run makes (Kai's, CLI's and raw API's). */
  prefix: string;
  dirs: string[];
  engine: Engine;
  kai?: KaiProcess;
  swarm?: SwarmBench;
}

async function cleanup(state: RunState): Promise<NonNullable<Results['cleanup']>> {
  const started = performance.now();
  const { errors, attempt } = attempts();
  let containersRemoved = 0;
  let leftovers = 0;
  let network: 'removed' | 'absent' | 'failed' = 'failed';

  await attempt('stop Kai', async () => {
    await state.kai?.stop();
  });
  const ours = async (): Promise<string[]> => {
    const [labelled, named] = await Promise.all([
      state.engine.list({ label: [`kai.instance=${state.instance}`] }),
      state.engine.list({ name: [state.prefix] }),
    ]);
    // The name filter is a substring match: keep only names that really start with the prefix.
    const byName = named.filter((item) => item.Names.some((name) => name.startsWith(`/${state.prefix}`)));
    return [...new Set([...labelled, ...byName].map((item) => item.Id))];
  };
  await attempt('remove containers', async () => {
    const ids = await ours();
    if (ids.length > 0) log(`cleanup: docker rm -f ${ids.length} containers...`);
    await dockerRmForce(ids);
    containersRemoved = ids.length;
    const left = await ours();
    // Anything the CLI missed (a race with a late create): one more pass over the API.
    for (const id of left) await state.engine.remove(id);
    leftovers = (await ours()).length;
  });
  await attempt('remove network', async () => {
    const result = await run('docker', ['network', 'rm', state.network], { timeoutMs: 60_000 });
    if (result.code === 0) network = 'removed';
    else if (/not found|No such network/i.test(result.stderr)) network = 'absent';
    else throw new Error(result.stderr.trim());
  });
  for (const dir of state.dirs) {
    await attempt(`remove ${dir}`, async () => rmSync(dir, { recursive: true, force: true }));
  }
  state.engine.close();
  return { ms: round(performance.now() - started, 0), containersRemoved, leftovers, network, errors };
}

/** Kai's success envelope around `data`. */
interface Envelope<T> {
  success: boolean;
  data: T;
}

async function kaiCall(kai: KaiProcess, method: string, route: string, body: unknown, expected: number, what: string, timeoutMs = 60_000): Promise<TimedResponse> {
  const response = await kai.client.request(method, route, body, timeoutMs);
  expectStatus(response, expected, what);
  return response;
}

async function measureCreate(state: RunState, kai: KaiProcess, results: Results): Promise<void> {
  const { containers, createConcurrency } = PARAMS;
  log(`creating ${containers} containers through Kai (POST /api/flexy, concurrency ${createConcurrency}, ${PARAMS.listImage})...`);
  const started = performance.now();
  let done = 0;
  const latencies = await pool(containers, createConcurrency, async (index) => {
    const response = await kaiCall(kai, 'POST', '/api/flexy', { name: `${state.prefix}-${index}` }, 201, `create #${index}`);
    done += 1;
    if (done % 50 === 0) log(`  ${done}/${containers}`);
    return response.ms;
  });
  const wallMs = performance.now() - started;
  const page = json<Envelope<{ total: number }>>(await kaiCall(kai, 'GET', '/api/flexy?limit=1', undefined, 200, 'list check'), 'list check');
  const engineCount = (await state.engine.list({ label: [`kai.managed=true`, `kai.instance=${state.instance}`] })).length;
  if (page.data.total !== containers || engineCount !== containers) {
    throw new Error(`after creating ${containers}: Kai lists ${page.data.total}, the engine ${engineCount}`);
  }
  results.create = {
    count: containers,
    concurrency: createConcurrency,
    wallMs: round(wallMs, 0),
    perSecond: round(containers / (wallMs / 1000), 1),
    latency: roundSummary(summarize(latencies)),
    listedByKai: page.data.total,
    listedByEngine: engineCount,
  };
}

async function measureList(state: RunState, kai: KaiProcess, results: Results): Promise<void> {
  const kaiRoute = `/api/flexy?limit=${PARAMS.listLimit}`;
  const rawRoute = Engine.listPath({ label: ['kai.managed=true', `kai.instance=${state.instance}`] });
  log(`list: ${PARAMS.listWarmup} warm-up + ${PARAMS.listRounds} measured rounds, Kai ${kaiRoute} and raw engine ${decodeURIComponent(rawRoute)} alternated`);
  const kaiSamples: number[] = [];
  const rawSamples: number[] = [];
  let kaiBytes = 0;
  let rawBytes = 0;
  const once = async (side: 'kai' | 'raw', record: boolean) => {
    const response =
      side === 'kai'
        ? await kaiCall(kai, 'GET', kaiRoute, undefined, 200, 'Kai list', 30_000)
        : await state.engine.client.request('GET', rawRoute, undefined, 30_000);
    if (side === 'raw') expectStatus(response, 200, 'raw list');
    if (!record) return;
    if (side === 'kai') {
      kaiSamples.push(response.ms);
      kaiBytes = response.body.length;
    } else {
      rawSamples.push(response.ms);
      rawBytes = response.body.length;
    }
  };
  for (let i = 0; i < PARAMS.listWarmup + PARAMS.listRounds; i++) {
    const record = i >= PARAMS.listWarmup;
    // Alternate which side goes first too, so neither always follows the other.
    const order: ('kai' | 'raw')[] = i % 2 === 0 ? ['kai', 'raw'] : ['raw', 'kai'];
    for (const side of order) await once(side, record);
  }
  // Sanity: both sides saw the same containers (Kai pages 100 of them).
  const kaiPage = json<Envelope<{ total: number; containers: unknown[] }>>(await kaiCall(kai, 'GET', kaiRoute, undefined, 200, 'Kai list'), 'Kai list');
  const raw = json<unknown[]>(await state.engine.client.request('GET', rawRoute, undefined, 30_000), 'raw list');
  if (kaiPage.data.total !== raw.length || kaiPage.data.containers.length !== Math.min(PARAMS.listLimit, raw.length)) {
    throw new Error(`list mismatch: Kai total ${kaiPage.data.total} (${kaiPage.data.containers.length} on the page), engine ${raw.length}`);
  }
  const kaiSummary = summarize(kaiSamples);
  const rawSummary = summarize(rawSamples);
  results.list = {
    kai: roundSummary(kaiSummary),
    raw: roundSummary(rawSummary),
    ratioP50: round(kaiSummary.p50 / rawSummary.p50, 3),
    ratioP99: round(kaiSummary.p99 / rawSummary.p99, 3),
    kaiBytes,
    rawBytes,
    samples: { kai: kaiSamples.map((value) => round(value, 3)), raw: rawSamples.map((value) => round(value, 3)) },
  };
}

type StartSide = 'kai' | 'cli' | 'api';

async function measureCreateStart(state: RunState, kai: KaiProcess, results: Results): Promise<void> {
  const image = PARAMS.sandboxImage;
  const total = PARAMS.startWarmupRounds + PARAMS.startRounds;
  log(`create+start: ${PARAMS.startWarmupRounds} warm-up + ${PARAMS.startRounds} measured rounds per side, ${image}; sides rotate each round`);
  const samples: Record<StartSide, number[]> = { kai: [], cli: [], api: [] };
  const phases = { cli: { create: [] as number[], start: [] as number[] }, api: { create: [] as number[], start: [] as number[] } };

  const sides: Record<StartSide, (name: string) => Promise<{ ms: number; create?: number; start?: number }>> = {
    kai: async (name) => {
      const response = await kaiCall(kai, 'POST', '/api/flexy', { name, image, start: true }, 201, `Kai create+start ${name}`, 120_000);
      const body = json<Envelope<{ status: string }>>(response, 'Kai create+start');
      if (body.data.status !== 'running') throw new Error(`Kai create+start ${name}: status ${body.data.status}, not running`);
      return { ms: response.ms };
    },
    cli: async (name) => {
      const started = performance.now();
      // What Kai creates (containerSpec in src/runtime/docker/docker-runtime.ts): 9681 and 8080 on loopback, an init, Kai's network.
      const created = await run('docker', ['create', '--name', name, '-p', '127.0.0.1::9681', '-p', '127.0.0.1::8080', '--init', '--network', state.network, image], { timeoutMs: 120_000 });
      if (created.code !== 0) throw new Error(`docker create ${name}: ${created.stderr.trim()}`);
      const startedCli = await run('docker', ['start', name], { timeoutMs: 120_000 });
      if (startedCli.code !== 0) throw new Error(`docker start ${name}: ${startedCli.stderr.trim()}`);
      return { ms: performance.now() - started, create: created.ms, start: startedCli.ms };
    },
    // Not a target: the engine's own floor for the same work (create with Kai's settings, then start).
    api: async (name) => {
      const spec = {
        Image: image,
        ExposedPorts: { '9681/tcp': {}, '8080/tcp': {} },
        HostConfig: {
          NetworkMode: state.network,
          PortBindings: { '9681/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
          Init: true,
        },
      };
      const created = await state.engine.client.request('POST', `/containers/create?name=${encodeURIComponent(name)}`, spec, 120_000);
      expectStatus(created, 201, `API create ${name}`);
      const { Id } = json<{ Id: string }>(created, 'API create');
      const startedApi = await state.engine.client.request('POST', `/containers/${Id}/start`, undefined, 120_000);
      expectStatus(startedApi, 204, `API start ${name}`);
      return { ms: created.ms + startedApi.ms, create: created.ms, start: startedApi.ms };
    },
  };

  const rotation: StartSide[] = ['kai', 'cli', 'api'];
  for (let r = 0; r < total; r++) {
    const record = r >= PARAMS.startWarmupRounds;
    const order = rotation.map((_, i) => rotation[(i + r) % rotation.length] as StartSide);
    for (const side of order) {
      const name = `${state.prefix}-${side}${r}`;
      const measured = await sides[side](name);
      // Removal is not timed; each round starts from the same engine state.
      await state.engine.remove(name);
      await sleep(200);
      if (!record) continue;
      samples[side].push(measured.ms);
      if (side !== 'kai' && measured.create !== undefined && measured.start !== undefined) {
        phases[side].create.push(measured.create);
        phases[side].start.push(measured.start);
      }
    }
    log(`  round ${r + 1}/${total}${record ? '' : ' (warm-up)'}`);
  }
  const side = (name: StartSide): CreateStartSide => {
    const result: CreateStartSide = { samples: samples[name].map((value) => round(value, 1)), summary: roundSummary(summarize(samples[name])) };
    if (name !== 'kai') result.phases = { create: roundSummary(summarize(phases[name].create)), start: roundSummary(summarize(phases[name].start)) };
    return result;
  };
  const kaiSummary = summarize(samples.kai);
  const cliSummary = summarize(samples.cli);
  results.createStart = {
    kai: side('kai'),
    cli: side('cli'),
    api: side('api'),
    ratioP50: round(kaiSummary.p50 / cliSummary.p50, 3),
    ratioMean: round(kaiSummary.mean / cliSummary.mean, 3),
    order: 'kai/cli/api rotated each round',
  };
}

function figures(results: Results): Figure[] {
  const out: Figure[] = [];
  const verdict = (ok: boolean): Verdict => (ok ? 'PASS' : 'MISS');
  const { idle, afterList, afterCreateStart, afterShell } = results.memory;
  if (idle) {
    out.push({ key: 'rss.idle', label: 'Idle RSS (MiB)', kai: round(idle.rssMiB, 1), reference: null, referenceLabel: null, unit: 'MiB', comparison: 'none', compared: round(idle.rssMiB, 1), target: `≤ ${TARGETS.idleRssMiB} MiB`, verdict: verdict(idle.rssMiB <= TARGETS.idleRssMiB) });
  }
  const terminals = results.shell?.terminals;
  if (terminals) {
    out.push({ key: 'rss.terminals', label: `RSS with ${terminals.count} terminals (MiB)`, kai: terminals.open.rssMiB, reference: terminals.before.rssMiB, referenceLabel: 'just before', unit: 'MiB', comparison: 'difference', compared: terminals.open.rssMiB, target: `≤ ${TARGETS.terminalsRssMiB} MiB`, verdict: verdict(terminals.open.rssMiB <= TARGETS.terminalsRssMiB) });
  }
  if (afterList) {
    out.push({ key: 'rss.afterList', label: 'RSS after list load (MiB)', kai: round(afterList.rssMiB, 1), reference: null, referenceLabel: null, unit: 'MiB', comparison: 'none', compared: round(afterList.rssMiB, 1), target: `≤ ${TARGETS.idleRssMiB} MiB (idle target)`, verdict: verdict(afterList.rssMiB <= TARGETS.idleRssMiB) });
  }
  if (results.list) {
    const { kai, raw, ratioP50, ratioP99 } = results.list;
    out.push({ key: 'list.p50', label: 'List p50 (ms)', kai: kai.p50, reference: raw.p50, referenceLabel: 'raw engine', unit: 'ms', comparison: 'ratio', compared: ratioP50, target: `≤ ${TARGETS.listRatio}×`, verdict: verdict(ratioP50 <= TARGETS.listRatio) });
    out.push({ key: 'list.p99', label: 'List p99 (ms)', kai: kai.p99, reference: raw.p99, referenceLabel: 'raw engine', unit: 'ms', comparison: 'ratio', compared: ratioP99, target: `≤ ${TARGETS.listRatio}×`, verdict: verdict(ratioP99 <= TARGETS.listRatio) });
  }
  if (results.createStart?.kai.summary && results.createStart.cli.summary) {
    const { kai, cli, ratioP50, ratioMean } = results.createStart;
    const k = kai.summary as Summary;
    const c = cli.summary as Summary;
    out.push({ key: 'createStart.p50', label: 'Create+start p50 (ms)', kai: k.p50, reference: c.p50, referenceLabel: 'docker CLI', unit: 'ms', comparison: 'ratio', compared: ratioP50, target: `≤ ${TARGETS.createStartRatio}×`, verdict: verdict(ratioP50 <= TARGETS.createStartRatio) });
    out.push({ key: 'createStart.mean', label: 'Create+start mean (ms)', kai: k.mean, reference: c.mean, referenceLabel: 'docker CLI', unit: 'ms', comparison: 'ratio', compared: ratioMean, target: `≤ ${TARGETS.createStartRatio}×`, verdict: verdict(ratioMean <= TARGETS.createStartRatio) });
  }
  const echo = results.shell?.echo;
  if (echo) {
    out.push({ key: 'shell.echo.p50', label: 'Shell echo p50 (ms)', kai: echo.kai.p50, reference: echo.direct.p50, referenceLabel: 'direct to ttyd', unit: 'ms', comparison: 'difference', compared: echo.addedP50Ms, target: `≤ +${TARGETS.shellEchoAddedMs} ms`, verdict: verdict(echo.addedP50Ms <= TARGETS.shellEchoAddedMs) });
    out.push({ key: 'shell.echo.p99', label: 'Shell echo p99 (ms)', kai: echo.kai.p99, reference: echo.direct.p99, referenceLabel: 'direct to ttyd', unit: 'ms', comparison: 'difference', compared: echo.addedP99Ms, target: '—', verdict: 'info' });
  }
  const bulk = results.shell?.bulk;
  if (bulk) {
    out.push({ key: 'shell.bulk', label: 'Shell bulk output (MiB/s)', kai: bulk.kai.medianMiBps, reference: bulk.direct.medianMiBps, referenceLabel: 'direct to ttyd', unit: 'MiB/s', comparison: 'ratio', compared: bulk.ratioMedian, target: `≥ ${TARGETS.shellBulkRatio}×`, verdict: verdict(bulk.ratioMedian >= TARGETS.shellBulkRatio) });
  }
  const terminalBulk = results.shell?.terminalBulk;
  if (terminalBulk) {
    const kai = terminalBulk.kai.medianMiBps;
    out.push({ key: 'terminal.bulk', label: `Terminal ${round(terminalBulk.bytesPerRound / 2 ** 20, 0)} MiB output (MiB/s)`, kai, reference: terminalBulk.engineTtyExec.medianMiBps, referenceLabel: 'engine TTY exec, info', unit: 'MiB/s', comparison: 'ratio', compared: kai, target: `≥ ${TARGETS.terminalMiBps} MiB/s`, verdict: verdict(kai >= TARGETS.terminalMiBps) });
  }
  const events = results.events;
  if (events) {
    out.push({ key: 'events.sse.p50', label: 'State change → SSE p50 (ms)', kai: events.sseAfterAction.p50, reference: events.sseAfterEngine.p50, referenceLabel: "after the engine's own event", unit: 'ms', comparison: 'none', compared: events.sseAfterAction.p50, target: `≤ ${TARGETS.eventSseMs} ms`, verdict: verdict(events.sseAfterAction.p50 <= TARGETS.eventSseMs) });
    out.push({ key: 'events.webhook.p50', label: 'State change → webhook p50 (ms)', kai: events.webhookAfterEngine.p50, reference: null, referenceLabel: null, unit: 'ms', comparison: 'none', compared: events.webhookAfterEngine.p50, target: `≤ ${TARGETS.eventWebhookMs} ms`, verdict: verdict(events.webhookAfterEngine.p50 <= TARGETS.eventWebhookMs) });
    out.push({ key: 'events.clients', label: `${events.clients} SSE clients: clients missing events`, kai: events.clientsMissingEvents, reference: round(events.kaiCpuPercent, 1), referenceLabel: 'Kai CPU %', unit: 'clients', comparison: 'none', compared: events.clientsMissingEvents, target: '0', verdict: verdict(events.clientsMissingEvents === 0) });
  }
  const swarm = results.swarm;
  if (swarm?.list) {
    const { kai, raw, ratioP50, ratioP99 } = swarm.list;
    out.push({ key: 'swarm.list.p50', label: 'Swarm list p50 (ms)', kai: kai.p50, reference: raw.p50, referenceLabel: 'docker service ls, raw', unit: 'ms', comparison: 'ratio', compared: ratioP50, target: `≤ ${TARGETS.swarmListRatio}×`, verdict: verdict(ratioP50 <= TARGETS.swarmListRatio) });
    out.push({ key: 'swarm.list.p99', label: 'Swarm list p99 (ms)', kai: kai.p99, reference: raw.p99, referenceLabel: 'docker service ls, raw', unit: 'ms', comparison: 'ratio', compared: ratioP99, target: `≤ ${TARGETS.swarmListRatio}×`, verdict: verdict(ratioP99 <= TARGETS.swarmListRatio) });
  }
  if (swarm?.createStart) {
    const { kai, raw, cli, ratioP50, ratioP95 } = swarm.createStart;
    out.push({ key: 'swarm.createStart.p50', label: 'Swarm create+start p50 (ms)', kai: kai.p50, reference: raw.p50, referenceLabel: 'raw service create + task poll', unit: 'ms', comparison: 'ratio', compared: ratioP50, target: `≤ ${TARGETS.swarmCreateStartRatio}×`, verdict: verdict(ratioP50 <= TARGETS.swarmCreateStartRatio) });
    out.push({ key: 'swarm.createStart.p95', label: 'Swarm create+start p95 (ms)', kai: kai.p95, reference: raw.p95, referenceLabel: 'raw service create + task poll', unit: 'ms', comparison: 'ratio', compared: ratioP95, target: `≤ ${TARGETS.swarmCreateStartRatio}×`, verdict: verdict(ratioP95 <= TARGETS.swarmCreateStartRatio) });
    if (cli) out.push({ key: 'swarm.createStart.cli', label: `Swarm create+start p50 (ms), CLI --detach=false (${cli.count})`, kai: kai.p50, reference: cli.p50, referenceLabel: 'docker service create, info', unit: 'ms', comparison: 'ratio', compared: round(kai.p50 / cli.p50, 3), target: '—', verdict: 'info' });
  }
  if (afterCreateStart) {
    out.push({ key: 'rss.afterCreateStart', label: 'RSS after create+start (MiB)', kai: round(afterCreateStart.rssMiB, 1), reference: null, referenceLabel: null, unit: 'MiB', comparison: 'none', compared: round(afterCreateStart.rssMiB, 1), target: '—', verdict: 'info' });
  }
  if (afterShell) {
    out.push({ key: 'rss.afterShell', label: 'RSS at the end, after the shell figures (MiB)', kai: round(afterShell.rssMiB, 1), reference: null, referenceLabel: null, unit: 'MiB', comparison: 'none', compared: round(afterShell.rssMiB, 1), target: '—', verdict: 'info' });
  }
  return out;
}

/** Kai's CPU time per MiB it carried, over all rounds. */
function cpuPerMiB(rounds: { bytes: number; kaiCpuMs?: number }[]): string {
  const bytes = rounds.reduce((sum, r) => sum + r.bytes, 0);
  const cpu = rounds.reduce((sum, r) => sum + (r.kaiCpuMs ?? 0), 0);
  return bytes > 0 ? (cpu / (bytes / 2 ** 20)).toFixed(1) : '-';
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  const [head, ...body] = rows;
  return [line(head ?? []), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(line)].join('\n');
}

function report(results: Results): string {
  const lines: string[] = [];
  const m = results.machine;
  lines.push('');
  lines.push(`Kai bench ${results.startedAt}  (${results.kai.mode ?? '?'}; node ${m.node}; docker ${m.dockerServer}; ${m.cpus} CPUs; ${m.os})`);
  const sections = Object.entries(results.load.sections).map(([name, value]) => `${name} ${value[0]}`).join(', ');
  lines.push(`load average (1/5/15 min) before ${results.load.before.join(' ')}, after ${(results.load.after ?? []).join(' ')}; 1-min at each section: ${sections}`);
  if (results.kai.healthyAfterMs !== undefined) {
    const build = results.kai.buildMs ? `, build ${(results.kai.buildMs / 1000).toFixed(1)} s` : '';
    lines.push(`Kai: ${results.kai.command} (npm start: "${results.kai.npmStart}"; pid ${results.kai.pid}) healthy ${results.kai.healthyAfterMs} ms after spawn${build}; requests ${results.kai.auth === 'bearer' ? 'with a session bearer token' : 'without credentials'}`);
  }
  lines.push('');
  const rows: string[][] = [['Figure', 'Kai', 'Reference', 'Kai vs ref', 'Target', 'Result']];
  const digits = (figure: Figure, value: number) => (figure.unit === 'ms' ? (Math.abs(value) < 10 ? 3 : 2) : 1);
  for (const figure of results.figures) {
    let versus = '';
    if (figure.reference !== null) {
      if (figure.comparison === 'difference') {
        const delta = figure.kai - figure.reference;
        versus = `${delta >= 0 ? '+' : ''}${delta.toFixed(digits(figure, delta))} ${figure.unit}`;
      } else {
        versus = `${(figure.kai / figure.reference).toFixed(2)}×`;
      }
    }
    const reference = figure.reference === null ? '' : `${figure.reference.toFixed(digits(figure, figure.reference))} (${figure.referenceLabel})`;
    rows.push([figure.label, figure.kai.toFixed(digits(figure, figure.kai)), reference, versus, figure.target, figure.verdict]);
  }
  lines.push(table(rows));
  lines.push('');
  if (results.create) {
    const c = results.create;
    lines.push(`create ${c.count} (busybox, concurrency ${c.concurrency}): ${(c.wallMs / 1000).toFixed(1)} s, ${c.perSecond}/s; per request p50 ${c.latency.p50} ms, p99 ${c.latency.p99} ms`);
  }
  if (results.list) {
    const { kai, raw, kaiBytes, rawBytes } = results.list;
    lines.push(`list (${kai.count} each): Kai min/p50/p90/p99/max ${kai.min}/${kai.p50}/${kai.p90}/${kai.p99}/${kai.max} ms (${kaiBytes} B); raw ${raw.min}/${raw.p50}/${raw.p90}/${raw.p99}/${raw.max} ms (${rawBytes} B)`);
  }
  if (results.createStart) {
    const { kai, cli, api } = results.createStart;
    const s = (side: CreateStartSide) => (side.summary ? `p50 ${side.summary.p50} / mean ${side.summary.mean} / p90 ${side.summary.p90} ms` : 'n/a');
    lines.push(`create+start (${kai.summary?.count ?? 0} rounds): Kai ${s(kai)}; CLI ${s(cli)}; raw API (info) ${s(api)}`);
    if (cli.phases && api.phases) {
      lines.push(`  CLI: docker create p50 ${cli.phases.create.p50} ms + docker start p50 ${cli.phases.start.p50} ms; raw API: create p50 ${api.phases.create.p50} ms + start p50 ${api.phases.start.p50} ms`);
    }
  }
  const shell = results.shell;
  if (shell?.terminals) {
    const t = shell.terminals;
    lines.push(`terminals: ${t.count} over ${t.sandboxes} ${t.image} sandboxes, opened right after the idle reading; RSS ${t.before.rssMiB} → ${t.open.rssMiB} MiB (${t.perTerminalKiB} KiB each), VmHWM ${t.open.hwmMiB}; open p50 ${t.openMs.p50} ms / max ${t.openMs.max} ms; prompts seen ${t.promptsSeen}/${t.count}`);
  }
  if (shell?.echo) {
    const { kai, direct } = shell.echo;
    lines.push(`shell echo (${kai.count} each): Kai min/p50/p90/p99/max ${kai.min}/${kai.p50}/${kai.p90}/${kai.p99}/${kai.max} ms; direct ${direct.min}/${direct.p50}/${direct.p90}/${direct.p99}/${direct.max} ms`);
  }
  if (shell?.bulk) {
    const { kai, direct, bytesPerRound } = shell.bulk;
    const list = (side: { rounds: { mibPerSecond: number }[] }) => side.rounds.map((r) => r.mibPerSecond.toFixed(1)).join(', ');
    lines.push(`shell bulk (${kai.rounds.length} × ${bytesPerRound} B each): Kai ${list(kai)} MiB/s (overall ${kai.overallMiBps}); direct ${list(direct)} MiB/s (overall ${direct.overallMiBps}); Kai CPU ${cpuPerMiB(kai.rounds)} ms per MiB relayed`);
  }
  if (shell?.terminalBulk) {
    const { kai, engineTtyExec, bytesPerRound, image } = shell.terminalBulk;
    const list = (side: { rounds: { mibPerSecond: number }[] }) => side.rounds.map((r) => r.mibPerSecond.toFixed(1)).join(', ');
    lines.push(`terminal bulk (${image}, ${kai.rounds.length} × ${bytesPerRound} B): Kai's terminal ${list(kai)} MiB/s (Kai CPU ${cpuPerMiB(kai.rounds)} ms per MiB); engine TTY exec (info, timed from its first byte) ${list(engineTtyExec)} MiB/s`);
  }
  if (results.memory.idle) {
    const { idle, afterList, afterCreateStart, afterShell } = results.memory;
    const last = afterShell ?? afterCreateStart ?? afterList ?? idle;
    lines.push(`memory (MiB): idle RSS ${idle.rssMiB.toFixed(1)}, with terminals ${shell?.terminals?.open.rssMiB.toFixed(1) ?? '-'}, after list ${afterList?.rssMiB.toFixed(1) ?? '-'}, after create+start ${afterCreateStart?.rssMiB.toFixed(1) ?? '-'}, end ${afterShell?.rssMiB.toFixed(1) ?? '-'}; peak (VmHWM) ${last.hwmMiB.toFixed(1)}`);
  }
  if (results.cleanup) {
    const c = results.cleanup;
    lines.push(`cleanup: ${c.containersRemoved} containers removed, ${c.leftovers} left, network ${c.network === 'absent' ? 'never created' : c.network === 'removed' ? 'removed' : 'NOT removed'}, ${(c.ms / 1000).toFixed(1)} s${c.errors.length ? `; errors: ${c.errors.join('; ')}` : ''}`);
  }
  lines.push(...swarmReport(results.swarm));
  if (results.error) lines.push(`ERROR: ${results.error}`);
  lines.push(`results: ${path.relative(REPO, RESULTS_FILE)}`);
  return lines.join('\n');
}

function swarmReport(swarm: SwarmResult | undefined): string[] {
  if (!swarm) return ['swarm: not run (BENCH_SWARM=0, or an earlier section failed)'];
  if (swarm.skipped) return [`swarm: SKIPPED: ${swarm.skipped}`];
  const lines: string[] = [];
  const c = swarm.cluster;
  if (c) lines.push(`swarm: ${c.manager} (engine ${c.engine}, API ${c.api}); nodes ${c.nodes.map((n) => `${n.hostname} ${n.role} ${n.state}`).join(', ')}; Kai instance ${swarm.kai?.instance ?? '?'}, network ${swarm.kai?.network ?? '?'} (Kai's own)`);
  if (swarm.setup) {
    const s = swarm.setup;
    lines.push(`swarm setup: ${s.services} sandboxes through Kai in ${(s.wallMs / 1000).toFixed(1)} s (create p50 ${s.createMs.p50} ms); ${s.running} started and pinned round-robin (create+start p50 ${s.createStartMs.p50} ms); running per node ${Object.entries(s.runningByNode).map(([host, count]) => `${host} ${count}`).join(', ')}`);
  }
  if (swarm.list) {
    const { kai, raw, kaiCallsRaw, kaiBytes, rawBytes, rawPath } = swarm.list;
    lines.push(`swarm list (${kai.count} each): Kai min/p50/p90/p99/max ${kai.min}/${kai.p50}/${kai.p90}/${kai.p99}/${kai.max} ms (${kaiBytes} B); raw GET ${rawPath} ${raw.min}/${raw.p50}/${raw.p90}/${raw.p99}/${raw.max} ms (${rawBytes} B); info: Kai's 3 calls raw in parallel p50 ${kaiCallsRaw.p50} / p99 ${kaiCallsRaw.p99} ms`);
  }
  if (swarm.createStart) {
    const { kai, raw, cli, raw_phases: phases, nodes } = swarm.createStart;
    const spread = (counts: Record<string, number>) => Object.entries(counts).sort().map(([host, count]) => `${host} ${count}`).join(', ');
    const side = (x: { p50: number; p95: number; mean: number; min: number; max: number }) => `p50 ${x.p50} / p95 ${x.p95} / mean ${x.mean} (min ${x.min}, max ${x.max}) ms`;
    lines.push(`swarm create+start (${kai.count} each): Kai ${side(kai)}; raw API ${side(raw)} (service create p50 ${phases.createMs.p50} ms, polls p50 ${phases.polls.p50}); tasks ran on: Kai ${spread(nodes.kai)}, raw ${spread(nodes.raw)}`);
    if (cli) lines.push(`  info: docker service create --detach=false (${cli.count}): ${side(cli)}; it waits for the task to stay up 5 s, so it is not the baseline`);
  }
  if (swarm.memory) lines.push(`swarm Kai RSS (MiB): after setup ${swarm.memory.afterSetupMiB}, after list ${swarm.memory.afterListMiB}, after create+start ${swarm.memory.afterCreateStartMiB}`);
  if (swarm.cleanup) {
    const k = swarm.cleanup;
    lines.push(`swarm cleanup: ${k.servicesRemoved} services removed, ${k.leftoverServices} services and ${k.leftoverContainers} task containers left, network ${k.network === 'absent' ? 'never created' : k.network === 'removed' ? 'removed' : 'NOT removed'}, ${(k.ms / 1000).toFixed(1)} s${k.errors.length ? `; errors: ${k.errors.join('; ')}` : ''}`);
  }
  if (swarm.error) lines.push(`swarm ERROR: ${swarm.error}`);
  return lines;
}

function writeResults(results: Results): void {
  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const id = randomBytes(4).toString('hex');
  const state: RunState = {
    id,
    instance: `bench-${id}`,
    network: `kai-bench-${id}`,
    prefix: `kb-${id}`,
    dirs: [],
    engine: new Engine(),
  };
  const git = gitInfo();
  const results: Results = {
    schema: 1,
    startedAt: startedAt.toISOString(),
    ok: false,
    machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memTotalMiB: Math.round(os.totalmem() / 2 ** 20), os: osName(), kernel: os.release(), gitCommit: git.commit, srcFilesChangedSinceCommit: git.dirtyFiles },
    parameters: PARAMS,
    targets: TARGETS,
    kai: { instance: state.instance, network: state.network },
    memory: {},
    figures: [],
    load: { before: loadavg(), sections: {} },
  };

  let cleaning: Promise<NonNullable<Results['cleanup']>> | undefined;
  const cleanupOnce = () => (cleaning ??= cleanup(state));
  let finishing: Promise<void> | undefined;
  // Once only: the watchdog, a signal and the normal path may all get here.
  const finish = (error?: unknown): Promise<void> => (finishing ??= finishRun(error));
  const finishRun = async (error?: unknown): Promise<void> => {
    if (error !== undefined) results.error = error instanceof Error ? error.message : String(error);
    results.cleanup = await cleanupOnce();
    const swarmCleanup = await state.swarm?.cleanup();
    results.load.after = loadavg();
    results.figures = figures(results);
    const swarmClean = !swarmCleanup || (swarmCleanup.errors.length === 0 && swarmCleanup.leftoverServices === 0 && swarmCleanup.leftoverContainers === 0);
    results.ok = results.error === undefined && results.cleanup.errors.length === 0 && results.cleanup.leftovers === 0 && swarmClean;
    results.finishedAt = new Date().toISOString();
    results.durationMs = Date.now() - startedAt.getTime();
    writeResults(results);
    console.log(report(results));
  };
  // Hard limits: whatever hangs, the run cleans up and stops by itself.
  const watchdog = setTimeout(() => {
    void finish(new Error(`bench exceeded its budget of ${PARAMS.budgetMs} ms`)).finally(() => process.exit(1));
  }, PARAMS.budgetMs);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void finish(new Error(`interrupted by ${signal}`)).finally(() => process.exit(130));
    });
  }

  let failure: unknown;
  try {
    if (SWARM_MODE !== 'only' && process.env.DOCKER_HOST && process.env.DOCKER_HOST !== `unix://${DOCKER_SOCKET}`) {
      throw new Error(`DOCKER_HOST=${process.env.DOCKER_HOST}: the bench compares against ${DOCKER_SOCKET}; unset DOCKER_HOST`);
    }
    const version = await state.engine.version().catch((error: unknown) => {
      if (SWARM_MODE === 'only') return { Version: 'n/a', ApiVersion: 'n/a' };
      throw error;
    });
    const cli = await run('docker', ['version', '--format', '{{.Client.Version}}'], { timeoutMs: 30_000 });
    Object.assign(results.machine, { dockerServer: version.Version, dockerApi: version.ApiVersion, dockerCli: cli.stdout.trim() });
    for (const image of SWARM_MODE === 'only' ? [] : [PARAMS.listImage, PARAMS.sandboxImage]) {
      if (!(await state.engine.hasImage(image))) throw new Error(`image ${image} is not on the engine; the bench never pulls (build it: bash scripts/setup.sh)`);
    }

    const start: StartCommand = readStartCommand(REPO);
    const prepared = await prepareKai(REPO, start, log);
    const args = kaiArgs(start, prepared.mode, PARAMS.kaiNodeFlags);
    const envWords = Object.entries(start.env).map(([key, value]) => `${key}=${value} `).join('');
    Object.assign(results.kai, {
      mode: prepared.mode,
      modeNote: prepared.note,
      npmStart: start.text,
      command: `${envWords}node ${args.join(' ')}`,
      buildMs: prepared.buildMs === null ? null : round(prepared.buildMs, 0),
    });
    if (SWARM_MODE !== 'only') await dockerSections(state, results, args, start);
    // The Docker side (its Kai, containers, network) is gone before the Swarm section, so that one runs on a quieter machine.
    results.cleanup = await cleanupOnce();
    if (SWARM_MODE !== 'off') {
      state.swarm = new SwarmBench(id, REPO, { args, env: start.env }, PARAMS.swarm, log);
      results.swarm = state.swarm.result;
      results.load.sections.swarm = loadavg();
      await state.swarm.run();
    }
  } catch (error) {
    failure = error ?? new Error('unknown failure');
    const tail = state.swarm ? state.swarm.logTail : state.kai?.logTail;
    if (tail) log(`Kai's last log lines:\n${tail}`);
  } finally {
    clearTimeout(watchdog);
    await finish(failure);
  }
  return results.ok ? 0 : 1;
}

/** Everything on the local Docker engine: Kai with the Docker runtime, side by side with the engine and the CLI. */
async function dockerSections(state: RunState, results: Results, args: string[], start: StartCommand): Promise<void> {
  {
    const port = await freePort();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kai-bench-data-'));
    state.dirs.push(dataDir);
    const hostRoot = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'kai-bench-root-')));
    state.dirs.push(hostRoot);
    log(`starting Kai (${results.kai.command}) on 127.0.0.1:${port}, instance ${state.instance}, network ${state.network}`);
    const admin = { username: 'bench-admin', password: randomBytes(18).toString('base64url') };
    const kai = new KaiProcess(REPO, args, port, {
      ...start.env,
      KAI_ADMIN_USERNAME: admin.username,
      KAI_ADMIN_PASSWORD: admin.password,
      HOST: '127.0.0.1',
      PORT: String(port),
      KAI_DATA_DIR: dataDir,
      KAI_HOST_ROOT: hostRoot,
      KAI_INSTANCE: state.instance,
      DOCKER_NETWORK: state.network,
      IMAGE_NAME: PARAMS.listImage,
      KAI_PULL_POLICY: 'never',
      KAI_LOG_LEVEL: 'warn',
    });
    state.kai = kai;
    results.kai.port = port;
    results.kai.pid = kai.pid;
    results.kai.healthyAfterMs = round(await kai.waitHealthy(30_000), 0);
    results.kai.auth = await kai.login(admin.username, admin.password);

    // Warm-up: a few requests on each route the bench uses, then let the process settle.
    for (let i = 0; i < 3; i++) {
      await kaiCall(kai, 'GET', '/api/health', undefined, 200, 'health');
      await kaiCall(kai, 'GET', `/api/flexy?limit=${PARAMS.listLimit}`, undefined, 200, 'list');
    }
    await sleep(1_000);
    results.memory.idle = kai.memory();
    log(`idle RSS ${results.memory.idle.rssMiB.toFixed(1)} MiB`);

    const shell: ShellContext = { kai, engine: state.engine, prefix: state.prefix, params: PARAMS.shell, log };
    results.shell = {};
    // Right after the idle reading, so the figure is idle + terminals, not the list load's heap; the sandboxes go before the list bench.
    results.load.sections.terminals = loadavg();
    results.shell.terminals = await measureTerminalsRss(shell, PARAMS.listImage);
    log(`RSS with ${results.shell.terminals.count} terminals ${results.shell.terminals.open.rssMiB.toFixed(1)} MiB (before ${results.shell.terminals.before.rssMiB.toFixed(1)})`);

    results.load.sections.create = loadavg();
    await measureCreate(state, kai, results);
    results.load.sections.list = loadavg();
    await measureList(state, kai, results);
    results.memory.afterList = kai.memory();
    log(`RSS after list load ${results.memory.afterList.rssMiB.toFixed(1)} MiB`);
    results.load.sections.createStart = loadavg();
    await measureCreateStart(state, kai, results);
    results.memory.afterCreateStart = kai.memory();

    const sandbox = `${state.prefix}-shell`;
    log(`shell: creating and starting ${sandbox} (${PARAMS.sandboxImage}) through Kai`);
    await createSandbox(shell, sandbox, PARAMS.sandboxImage);
    const ttydPort = await publishedPort(shell, sandbox, 9681);
    results.shell.sandbox = { name: sandbox, image: PARAMS.sandboxImage, publishedShellPort: ttydPort };
    await waitForTtyd(shell, sandbox, ttydPort);
    results.load.sections.shellEcho = loadavg();
    results.shell.echo = await measureEcho(shell, sandbox, ttydPort);
    log(`shell echo p50 Kai ${results.shell.echo.kai.p50} ms, direct ${results.shell.echo.direct.p50} ms`);
    results.load.sections.shellBulk = loadavg();
    results.shell.bulk = await measureProxyBulk(shell, sandbox, ttydPort);
    results.load.sections.terminalBulk = loadavg();
    results.shell.terminalBulk = await measureTerminalBulk(shell, sandbox, PARAMS.sandboxImage);
    results.memory.afterShell = kai.memory();

    // Live state: pause/unpause four running sandboxes with the engine API, 100 SSE clients and a webhook listening.
    const eventBoxes: string[] = [];
    for (let index = 0; index < 4; index++) {
      const created = await kaiCall(kai, 'POST', '/api/flexy', { name: `${state.prefix}-ev${index}`, image: PARAMS.listImage, start: true }, 201, 'create event sandbox');
      eventBoxes.push((JSON.parse(created.body) as { data: { id: string } }).data.id);
    }
    results.load.sections.events = loadavg();
    const token = (kai.client.defaultHeaders.authorization ?? '').replace('Bearer ', '');
    results.events = await measureEvents({ kaiPort: port, kaiPid: kai.pid, token, instance: state.instance, containerIds: eventBoxes }, 40, 99);
    printEvents(results.events, log);
    if (!kai.running) throw new Error(`Kai exited (code ${kai.exitCode}) during the bench:\n${kai.logTail}`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
