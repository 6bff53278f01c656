/**
 * The shell figures of `npm run bench` (issue 4, "Performance"): ttyd through
 * Kai's proxy against ttyd straight on the sandbox's published port, Kai's
 * built-in terminal against the engine's own TTY exec, and Kai's memory with
 * many terminals open.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientOptions } from 'ws';
import type { Engine } from './engine.js';
import { expectStatus, json } from './http.js';
import type { KaiProcess } from './kai-process.js';
import { TerminalClient, TtydClient, engineTtyExecBulk, type BulkResult } from './shell.js';
import { round, roundSummary, summarize, type Summary } from './stats.js';

export interface ShellParams {
  echoWarmup: number;
  echoRounds: number;
  bulkBytes: number;
  bulkWarmupBytes: number;
  bulkRounds: number;
  terminalBytes: number;
  terminalWarmupBytes: number;
  terminalRounds: number;
  terminals: number;
  terminalSandboxes: number;
}

export interface ShellContext {
  kai: KaiProcess;
  engine: Engine;
  prefix: string;
  params: ShellParams;
  log: (line: string) => void;
}

export interface EchoResult {
  kai: Summary;
  direct: Summary;
  addedP50Ms: number;
  addedP99Ms: number;
  method: string;
  samples: { kai: number[]; direct: number[] };
}

export interface BulkSide {
  rounds: BulkResult[];
  /** Median of the rounds' MiB/s. */
  medianMiBps: number;
  /** All bytes over all time. */
  overallMiBps: number;
}

export interface ProxyBulkResult {
  bytesPerRound: number;
  kai: BulkSide;
  direct: BulkSide;
  ratioMedian: number;
  order: string;
}

export interface TerminalBulkResult {
  image: string;
  bytesPerRound: number;
  kai: BulkSide;
  engineTtyExec: BulkSide;
  order: string;
}

export interface TerminalsRssResult {
  count: number;
  sandboxes: number;
  image: string;
  before: { rssMiB: number; hwmMiB: number };
  open: { rssMiB: number; hwmMiB: number };
  perTerminalKiB: number;
  openMs: Summary;
  promptsSeen: number;
  sessionsListed: number;
}

const round3 = (value: number) => round(value, 3);

/** Runs one round and adds the CPU time Kai and the bench client used meanwhile. */
async function withCpu(ctx: ShellContext, kaiOnPath: boolean, task: () => Promise<BulkResult>): Promise<BulkResult> {
  const kaiBefore = ctx.kai.cpuMs();
  const clientBefore = process.cpuUsage();
  const result = await task();
  const client = process.cpuUsage(clientBefore);
  const kaiCpuMs = ctx.kai.cpuMs() - kaiBefore;
  return { ...result, clientCpuMs: round((client.user + client.system) / 1000, 0), ...(kaiOnPath ? { kaiCpuMs: round(kaiCpuMs, 0) } : { kaiCpuMsOffPath: round(kaiCpuMs, 0) }) };
}

function bulkSide(rounds: BulkResult[]): BulkSide {
  const rates = summarize(rounds.map((r) => r.mibPerSecond));
  const bytes = rounds.reduce((sum, r) => sum + r.bytes, 0);
  const ms = rounds.reduce((sum, r) => sum + r.ms, 0);
  return {
    rounds: rounds.map((r) => ({ ...r, ms: round(r.ms, 1), mibPerSecond: round(r.mibPerSecond, 2) })),
    medianMiBps: round(rates.p50, 2),
    overallMiBps: round(bytes / 2 ** 20 / (ms / 1000), 2),
  };
}

function kaiWs(ctx: ShellContext, route: string): { url: string; options: ClientOptions } {
  const origin = `http://127.0.0.1:${ctx.kai.port}`;
  const authorization = ctx.kai.client.defaultHeaders.authorization;
  return {
    url: `ws://127.0.0.1:${ctx.kai.port}${route}`,
    // A browser's handshake: Kai's own Origin; a script's credentials: the bearer token.
    options: { headers: { origin, ...(authorization ? { authorization } : {}) } },
  };
}

async function kaiRequest(ctx: ShellContext, method: string, route: string, body: unknown, expected: number, what: string, timeoutMs = 60_000) {
  const response = await ctx.kai.client.request(method, route, body, timeoutMs);
  expectStatus(response, expected, what);
  return response;
}

/** Creates and starts a sandbox through Kai. */
export async function createSandbox(ctx: ShellContext, name: string, image?: string): Promise<void> {
  await kaiRequest(ctx, 'POST', '/api/flexy', { name, start: true, ...(image ? { image } : {}) }, 201, `create+start ${name}`, 120_000);
}

/** The host port the engine published for a container port on 127.0.0.1. */
export async function publishedPort(ctx: ShellContext, name: string, containerPort: number): Promise<number> {
  const response = await ctx.engine.client.request('GET', `/containers/${encodeURIComponent(name)}/json`, undefined, 10_000);
  expectStatus(response, 200, `inspect ${name}`);
  const info = json<{ Id: string; NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> } }>(response, `inspect ${name}`);
  const binding = info.NetworkSettings.Ports[`${containerPort}/tcp`]?.find((b) => b.HostIp === '127.0.0.1');
  if (!binding) throw new Error(`${name} does not publish ${containerPort} on 127.0.0.1`);
  return Number(binding.HostPort);
}

export async function containerId(ctx: ShellContext, name: string): Promise<string> {
  const response = await ctx.engine.client.request('GET', `/containers/${encodeURIComponent(name)}/json`, undefined, 10_000);
  expectStatus(response, 200, `inspect ${name}`);
  return json<{ Id: string }>(response, `inspect ${name}`).Id;
}

/** ttyd listens a moment after its container starts: wait until it answers directly and through Kai. */
export async function waitForTtyd(ctx: ShellContext, name: string, port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const direct = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
      await direct.arrayBuffer();
      const viaKai = await ctx.kai.client.request('GET', `/flexy/${name}/shell/`, undefined, 5_000);
      if (direct.status === 200 && viaKai.status === 200) return;
      last = `direct HTTP ${direct.status}, through Kai HTTP ${viaKai.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`ttyd in ${name} did not answer within ${timeoutMs} ms (${last})`);
}

/**
 * Echo round trip: one character typed, timed until it comes back, through
 * Kai's proxy and straight to ttyd, on two ttyd sessions open side by side.
 * Each session runs `stty raw -echo; exec cat`, so each typed byte comes back
 * once, from cat, with no line editing; the sides alternate (ABBA).
 */
export async function measureEcho(ctx: ShellContext, name: string, directPort: number): Promise<EchoResult> {
  const { echoWarmup, echoRounds } = ctx.params;
  ctx.log(`shell echo: ${echoWarmup} warm-up + ${echoRounds} measured single-character round trips per side, Kai proxy and direct alternated`);
  const viaKai = kaiWs(ctx, `/flexy/${name}/shell/ws`);
  const clients: TtydClient[] = [];
  try {
    const kai = await TtydClient.open(viaKai.url, viaKai.options);
    clients.push(kai);
    const direct = await TtydClient.open(`ws://127.0.0.1:${directPort}/ws`, {});
    clients.push(direct);
    await kai.becomeEcho();
    await direct.becomeEcho();
    const samples = { kai: [] as number[], direct: [] as number[] };
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    for (let i = 0; i < echoWarmup + echoRounds; i++) {
      const char = letters[i % letters.length] as string;
      const order = i % 2 === 0 ? (['kai', 'direct'] as const) : (['direct', 'kai'] as const);
      for (const side of order) {
        const ms = await (side === 'kai' ? kai : direct).echo(char);
        if (i >= echoWarmup) samples[side].push(ms);
      }
    }
    const k = summarize(samples.kai);
    const d = summarize(samples.direct);
    return {
      kai: roundSummary3(k),
      direct: roundSummary3(d),
      addedP50Ms: round3(k.p50 - d.p50),
      addedP99Ms: round3(k.p99 - d.p99),
      method: 'ttyd session running `stty raw -echo; exec cat`; one byte typed, timed until an output frame with it arrives',
      samples: { kai: samples.kai.map(round3), direct: samples.direct.map(round3) },
    };
  } finally {
    for (const client of clients) client.close();
  }
}

function roundSummary3(summary: Summary): Summary {
  return { count: summary.count, min: round3(summary.min), p50: round3(summary.p50), p90: round3(summary.p90), p99: round3(summary.p99), max: round3(summary.max), mean: round3(summary.mean) };
}

/** Bulk output in a ttyd shell, through Kai's proxy and direct, rounds alternating (ABBA). */
export async function measureProxyBulk(ctx: ShellContext, name: string, directPort: number): Promise<ProxyBulkResult> {
  const { bulkBytes, bulkWarmupBytes, bulkRounds } = ctx.params;
  ctx.log(`shell bulk: 1 warm-up round (${bulkWarmupBytes} B) + ${bulkRounds} rounds of ${bulkBytes} B per side, Kai proxy and direct alternated`);
  const viaKai = kaiWs(ctx, `/flexy/${name}/shell/ws`);
  const clients: TtydClient[] = [];
  const timeoutMs = 120_000;
  try {
    const kai = await TtydClient.open(viaKai.url, viaKai.options);
    clients.push(kai);
    const direct = await TtydClient.open(`ws://127.0.0.1:${directPort}/ws`, {});
    clients.push(direct);
    await kai.bulk(bulkWarmupBytes, timeoutMs);
    await direct.bulk(bulkWarmupBytes, timeoutMs);
    const rounds = { kai: [] as BulkResult[], direct: [] as BulkResult[] };
    for (let r = 0; r < bulkRounds; r++) {
      const order = r % 2 === 0 ? (['kai', 'direct'] as const) : (['direct', 'kai'] as const);
      for (const side of order) {
        const result = await withCpu(ctx, side === 'kai', () => (side === 'kai' ? kai : direct).bulk(bulkBytes, timeoutMs));
        rounds[side].push(result);
        ctx.log(`  round ${r + 1}/${bulkRounds} ${side}: ${result.mibPerSecond.toFixed(1)} MiB/s (${result.frames} frames, ${(result.ms / 1000).toFixed(2)} s; CPU: Kai ${result.kaiCpuMs ?? 0} ms, client ${result.clientCpuMs} ms)`);
      }
    }
    const kaiSide = bulkSide(rounds.kai);
    const directSide = bulkSide(rounds.direct);
    return { bytesPerRound: bulkBytes, kai: kaiSide, direct: directSide, ratioMedian: round(kaiSide.medianMiBps / directSide.medianMiBps, 3), order: 'kai/direct, direct/kai, ... (ABBA)' };
  } finally {
    for (const client of clients) client.close();
  }
}

/**
 * The built-in terminal: a Node `ws` client receiving `terminalBytes` of
 * output, rounds alternating with the engine's own TTY exec of the same
 * command in the same container (its floor; no target).
 */
export async function measureTerminalBulk(ctx: ShellContext, name: string, image: string): Promise<TerminalBulkResult> {
  const { terminalBytes, terminalWarmupBytes, terminalRounds } = ctx.params;
  ctx.log(`terminal bulk: 1 warm-up round (${terminalWarmupBytes} B) + ${terminalRounds} rounds of ${terminalBytes} B, Kai's terminal and the engine's TTY exec alternated`);
  const id = await containerId(ctx, name);
  const viaKai = kaiWs(ctx, `/api/flexy/${name}/terminal?cols=200&rows=50`);
  const timeoutMs = 120_000;
  const client = await TerminalClient.open(viaKai.url, viaKai.options);
  try {
    await client.firstOutput(10_000);
    await client.settle(200, 5_000);
    await client.bulk(terminalWarmupBytes, timeoutMs);
    await engineTtyExecBulk(id, terminalWarmupBytes, timeoutMs);
    const rounds = { kai: [] as BulkResult[], engine: [] as BulkResult[] };
    for (let r = 0; r < terminalRounds; r++) {
      const order = r % 2 === 0 ? (['kai', 'engine'] as const) : (['engine', 'kai'] as const);
      for (const side of order) {
        const result = await withCpu(ctx, side === 'kai', () => (side === 'kai' ? client.bulk(terminalBytes, timeoutMs) : engineTtyExecBulk(id, terminalBytes, timeoutMs)));
        rounds[side].push(result);
        ctx.log(`  round ${r + 1}/${terminalRounds} ${side === 'kai' ? "Kai's terminal" : 'engine TTY exec'}: ${result.mibPerSecond.toFixed(1)} MiB/s (${result.frames} frames, ${(result.ms / 1000).toFixed(2)} s; CPU: Kai ${result.kaiCpuMs ?? 0} ms, client ${result.clientCpuMs} ms)`);
      }
    }
    return { image, bytesPerRound: terminalBytes, kai: bulkSide(rounds.kai), engineTtyExec: bulkSide(rounds.engine), order: 'kai/engine, engine/kai, ... (ABBA)' };
  } finally {
    // Close the session (its shell ends) rather than leave it for the grace period.
    await ctx.kai.client.request('DELETE', `/api/flexy/${name}/terminals/${client.session}`, undefined, 30_000).catch(() => undefined);
    client.close();
  }
}

/**
 * Kai's RSS with `terminals` built-in terminals open and idle: one WebSocket
 * client and one session each, spread over `terminalSandboxes` busybox
 * sandboxes. The sandboxes are removed afterwards.
 */
export async function measureTerminalsRss(ctx: ShellContext, image: string): Promise<TerminalsRssResult> {
  const { terminals, terminalSandboxes } = ctx.params;
  ctx.log(`terminals: ${terminals} built-in terminals over ${terminalSandboxes} running ${image} sandboxes`);
  const names = Array.from({ length: terminalSandboxes }, (_, i) => `${ctx.prefix}-term${i}`);
  const clients: TerminalClient[] = [];
  try {
    for (const name of names) await createSandbox(ctx, name);
    await sleep(500);
    const before = ctx.kai.memory();
    const openMs: number[] = [];
    for (let i = 0; i < terminals; i++) {
      const name = names[i % names.length] as string;
      const { url, options } = kaiWs(ctx, `/api/flexy/${name}/terminal`);
      const started = performance.now();
      clients.push(await TerminalClient.open(url, options));
      openMs.push(performance.now() - started);
    }
    const prompts = await Promise.all(clients.map((client) => client.firstOutput(5_000)));
    // Idle: no input, no output; let Kai settle before reading its memory.
    await sleep(2_000);
    const open = ctx.kai.memory();
    let listed = 0;
    for (const name of names) {
      const response = await kaiRequest(ctx, 'GET', `/api/flexy/${name}/terminals`, undefined, 200, `terminals of ${name}`);
      listed += json<{ data: { sessions: unknown[] } }>(response, 'terminal list').data.sessions.length;
    }
    if (listed !== terminals) throw new Error(`${terminals} terminals opened but Kai lists ${listed}`);
    return {
      count: terminals,
      sandboxes: terminalSandboxes,
      image,
      before: { rssMiB: round(before.rssMiB, 1), hwmMiB: round(before.hwmMiB, 1) },
      open: { rssMiB: round(open.rssMiB, 1), hwmMiB: round(open.hwmMiB, 1) },
      perTerminalKiB: round(((open.rssMiB - before.rssMiB) * 1024) / terminals, 0),
      openMs: roundSummary(summarize(openMs)),
      promptsSeen: prompts.filter(Boolean).length,
      sessionsListed: listed,
    };
  } finally {
    for (const client of clients) client.close();
    // Removing the sandboxes ends their sessions (Kai sees the streams end); the list bench needs them gone.
    for (const name of names) await ctx.kai.client.request('DELETE', `/api/flexy/${name}`, undefined, 60_000).catch(() => undefined);
    await sleep(1_000);
  }
}
