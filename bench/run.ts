/**
 * Kai benchmark (`npm run bench`): Kai as a separate process against the
 * local Docker engine, side by side with the engine's own API and the docker
 * CLI, in one run. Prints a table and writes bench/results/latest.json.
 *
 * Knobs (environment, all optional; the defaults are the reference run):
 *   BENCH_CONTAINERS=300      containers created through Kai before the list bench
 *   BENCH_CREATE_CONCURRENCY=8
 *   BENCH_LIST_WARMUP=20 BENCH_LIST_ROUNDS=200
 *   BENCH_START_ROUNDS=15     measured create+start rounds per side (after one warm-up round)
 *   BENCH_BUDGET_MS=360000    hard limit for the whole run; cleanup still runs
 *   KAI_BENCH_BUILD=0         skip `npm run build` (use dist/ if present, else tsx)
 *   KAI_BENCH_MODE=tsx        run src/ through tsx instead (no build)
 *   KAI_BENCH_NODE_FLAGS="…"  extra node flags for the Kai process only, e.g. --max-semi-space-size=1
 *                             (to try a fix; the reference run uses none)
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DOCKER_SOCKET, Engine, dockerRmForce } from './lib/engine.js';
import { expectStatus, json, type TimedResponse } from './lib/http.js';
import { KaiProcess, freePort, prepareKai, run, type KaiMode } from './lib/kai-process.js';
import { pool, round, roundSummary, summarize, type Summary } from './lib/stats.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_FILE = path.join(REPO, 'bench', 'results', 'latest.json');

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
  budgetMs: intEnv('BENCH_BUDGET_MS', 6 * 60_000),
  kaiNodeFlags: (process.env.KAI_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean),
};

const TARGETS = {
  idleRssMiB: 80,
  listRatio: 1.3,
  createStartRatio: 1.15,
};

type Verdict = 'PASS' | 'MISS' | 'info';

interface Figure {
  key: string;
  label: string;
  kai: number;
  reference: number | null;
  referenceLabel: string | null;
  unit: string;
  /** The value compared with the target: the figure itself, or Kai/reference. */
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
  kai: { mode?: KaiMode; modeNote?: string; auth?: 'bearer' | 'none'; buildMs?: number | null; instance: string; network: string; port?: number; pid?: number; healthyAfterMs?: number };
  memory: { idle?: { rssMiB: number; hwmMiB: number }; afterList?: { rssMiB: number; hwmMiB: number }; afterCreateStart?: { rssMiB: number; hwmMiB: number } };
  create?: { count: number; concurrency: number; wallMs: number; perSecond: number; latency: Summary; listedByKai: number; listedByEngine: number };
  list?: { kai: Summary; raw: Summary; ratioP50: number; ratioP99: number; kaiBytes: number; rawBytes: number; samples: { kai: number[]; raw: number[] } };
  createStart?: { kai: CreateStartSide; cli: CreateStartSide; api: CreateStartSide; ratioP50: number; ratioMean: number; order: string };
  figures: Figure[];
  load: { before: number[]; after?: number[] };
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
}

async function cleanup(state: RunState): Promise<NonNullable<Results['cleanup']>> {
  const started = performance.now();
  const errors: string[] = [];
  const attempt = async (what: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (error) {
      errors.push(`${what}: ${(error as Error).message}`);
    }
  };
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
      const created = await run('docker', ['create', '--name', name, '-p', '127.0.0.1::9681', '--network', state.network, '--init', image], { timeoutMs: 120_000 });
      if (created.code !== 0) throw new Error(`docker create ${name}: ${created.stderr.trim()}`);
      const startedCli = await run('docker', ['start', name], { timeoutMs: 120_000 });
      if (startedCli.code !== 0) throw new Error(`docker start ${name}: ${startedCli.stderr.trim()}`);
      return { ms: performance.now() - started, create: created.ms, start: startedCli.ms };
    },
    // Not a target: the engine's own floor for the same work (create with Kai's settings, then start).
    api: async (name) => {
      const spec = {
        Image: image,
        ExposedPorts: { '9681/tcp': {} },
        HostConfig: { NetworkMode: state.network, PortBindings: { '9681/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, Init: true },
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
  const { idle, afterList, afterCreateStart } = results.memory;
  if (idle) {
    out.push({ key: 'rss.idle', label: 'Idle RSS (MiB)', kai: round(idle.rssMiB, 1), reference: null, referenceLabel: null, unit: 'MiB', compared: round(idle.rssMiB, 1), target: `≤ ${TARGETS.idleRssMiB} MiB`, verdict: verdict(idle.rssMiB <= TARGETS.idleRssMiB) });
  }
  if (afterList) {
    out.push({ key: 'rss.afterList', label: 'RSS after list load (MiB)', kai: round(afterList.rssMiB, 1), reference: null, referenceLabel: null, unit: 'MiB', compared: round(afterList.rssMiB, 1), target: `≤ ${TARGETS.idleRssMiB} MiB (idle target)`, verdict: verdict(afterList.rssMiB <= TARGETS.idleRssMiB) });
  }
  if (results.list) {
    const { kai, raw, ratioP50, ratioP99 } = results.list;
    out.push({ key: 'list.p50', label: 'List p50 (ms)', kai: kai.p50, reference: raw.p50, referenceLabel: 'raw engine', unit: 'ms', compared: ratioP50, target: `≤ ${TARGETS.listRatio}×`, verdict: verdict(ratioP50 <= TARGETS.listRatio) });
    out.push({ key: 'list.p99', label: 'List p99 (ms)', kai: kai.p99, reference: raw.p99, referenceLabel: 'raw engine', unit: 'ms', compared: ratioP99, target: `≤ ${TARGETS.listRatio}×`, verdict: verdict(ratioP99 <= TARGETS.listRatio) });
  }
  if (results.createStart?.kai.summary && results.createStart.cli.summary) {
    const { kai, cli, ratioP50, ratioMean } = results.createStart;
    const k = kai.summary as Summary;
    const c = cli.summary as Summary;
    out.push({ key: 'createStart.p50', label: 'Create+start p50 (ms)', kai: k.p50, reference: c.p50, referenceLabel: 'docker CLI', unit: 'ms', compared: ratioP50, target: `≤ ${TARGETS.createStartRatio}×`, verdict: verdict(ratioP50 <= TARGETS.createStartRatio) });
    out.push({ key: 'createStart.mean', label: 'Create+start mean (ms)', kai: k.mean, reference: c.mean, referenceLabel: 'docker CLI', unit: 'ms', compared: ratioMean, target: `≤ ${TARGETS.createStartRatio}×`, verdict: verdict(ratioMean <= TARGETS.createStartRatio) });
  }
  if (afterCreateStart) {
    out.push({ key: 'rss.afterCreateStart', label: 'RSS at the end (MiB)', kai: round(afterCreateStart.rssMiB, 1), reference: null, referenceLabel: null, unit: 'MiB', compared: round(afterCreateStart.rssMiB, 1), target: '—', verdict: 'info' });
  }
  return out;
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
  lines.push(`load average before ${results.load.before.join(' ')}, after ${(results.load.after ?? []).join(' ')}`);
  if (results.kai.healthyAfterMs !== undefined) {
    const build = results.kai.buildMs ? `, build ${(results.kai.buildMs / 1000).toFixed(1)} s` : '';
    const flags = PARAMS.kaiNodeFlags.length > 0 ? `${PARAMS.kaiNodeFlags.join(' ')} ` : '';
    lines.push(`Kai node ${flags}${results.kai.mode === 'dist' ? 'dist/main.js' : '--import tsx src/main.ts'} (pid ${results.kai.pid}) healthy ${results.kai.healthyAfterMs} ms after spawn${build}; requests ${results.kai.auth === 'bearer' ? 'with a session bearer token' : 'without credentials'}`);
  }
  lines.push('');
  const rows: string[][] = [['Figure', 'Kai', 'Reference', 'Kai/ref', 'Target', 'Result']];
  for (const figure of results.figures) {
    const ratio = figure.reference === null ? '' : `${figure.compared.toFixed(2)}×`;
    const reference = figure.reference === null ? '' : `${figure.reference.toFixed(figure.unit === 'ms' ? 2 : 1)} (${figure.referenceLabel})`;
    rows.push([figure.label, figure.kai.toFixed(figure.unit === 'ms' ? 2 : 1), reference, ratio, figure.target, figure.verdict]);
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
  if (results.memory.idle) {
    const { idle, afterList, afterCreateStart } = results.memory;
    lines.push(`memory (MiB): idle RSS ${idle.rssMiB.toFixed(1)}, after list ${afterList?.rssMiB.toFixed(1) ?? '-'}, end ${afterCreateStart?.rssMiB.toFixed(1) ?? '-'}; peak (VmHWM) ${(afterCreateStart ?? afterList ?? idle).hwmMiB.toFixed(1)}`);
  }
  if (results.cleanup) {
    const c = results.cleanup;
    lines.push(`cleanup: ${c.containersRemoved} containers removed, ${c.leftovers} left, network ${c.network === 'absent' ? 'never created' : c.network === 'removed' ? 'removed' : 'NOT removed'}, ${(c.ms / 1000).toFixed(1)} s${c.errors.length ? `; errors: ${c.errors.join('; ')}` : ''}`);
  }
  if (results.error) lines.push(`ERROR: ${results.error}`);
  lines.push(`results: ${path.relative(REPO, RESULTS_FILE)}`);
  return lines.join('\n');
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
    load: { before: loadavg() },
  };

  let cleaning: Promise<NonNullable<Results['cleanup']>> | undefined;
  const cleanupOnce = () => (cleaning ??= cleanup(state));
  let finishing: Promise<void> | undefined;
  // Once only: the watchdog, a signal and the normal path may all get here.
  const finish = (error?: unknown): Promise<void> => (finishing ??= finishRun(error));
  const finishRun = async (error?: unknown): Promise<void> => {
    if (error !== undefined) results.error = error instanceof Error ? error.message : String(error);
    results.cleanup = await cleanupOnce();
    results.load.after = loadavg();
    results.figures = figures(results);
    results.ok = results.error === undefined && results.cleanup.errors.length === 0 && results.cleanup.leftovers === 0;
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
    if (process.env.DOCKER_HOST && process.env.DOCKER_HOST !== `unix://${DOCKER_SOCKET}`) {
      throw new Error(`DOCKER_HOST=${process.env.DOCKER_HOST}: the bench compares against ${DOCKER_SOCKET}; unset DOCKER_HOST`);
    }
    const version = await state.engine.version();
    const cli = await run('docker', ['version', '--format', '{{.Client.Version}}'], { timeoutMs: 30_000 });
    Object.assign(results.machine, { dockerServer: version.Version, dockerApi: version.ApiVersion, dockerCli: cli.stdout.trim() });
    for (const image of [PARAMS.listImage, PARAMS.sandboxImage]) {
      if (!(await state.engine.hasImage(image))) throw new Error(`image ${image} is not on the engine; the bench never pulls (build it: bash scripts/setup.sh)`);
    }

    const prepared = await prepareKai(REPO, log);
    Object.assign(results.kai, { mode: prepared.mode, modeNote: prepared.note, buildMs: prepared.buildMs === null ? null : round(prepared.buildMs, 0) });

    const port = await freePort();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kai-bench-data-'));
    state.dirs.push(dataDir);
    const hostRoot = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'kai-bench-root-')));
    state.dirs.push(hostRoot);
    log(`starting Kai (${prepared.mode}) on 127.0.0.1:${port}, instance ${state.instance}, network ${state.network}`);
    const admin = { username: 'bench-admin', password: randomBytes(18).toString('base64url') };
    const kai = new KaiProcess(REPO, prepared.mode, port, {
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
    }, PARAMS.kaiNodeFlags);
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

    await measureCreate(state, kai, results);
    await measureList(state, kai, results);
    results.memory.afterList = kai.memory();
    log(`RSS after list load ${results.memory.afterList.rssMiB.toFixed(1)} MiB`);
    await measureCreateStart(state, kai, results);
    results.memory.afterCreateStart = kai.memory();
    if (!kai.running) throw new Error(`Kai exited (code ${kai.exitCode}) during the bench:\n${kai.logTail}`);
  } catch (error) {
    failure = error ?? new Error('unknown failure');
    if (state.kai && state.kai.logTail) log(`Kai's last log lines:\n${state.kai.logTail}`);
  } finally {
    clearTimeout(watchdog);
    await finish(failure);
  }
  return results.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
