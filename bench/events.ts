/**
 * `npm run bench:events`: the live-state figures on their own (npm run bench
 * runs the same measurement as part of the full report). Starts Kai the way
 * npm start does, with four running busybox sandboxes, then measures event
 * latency to SSE and to a webhook, and 100 SSE clients.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerRmForce, Engine } from './lib/engine.js';
import { measureEvents, type EventsResult } from './lib/events-bench.js';
import { KaiProcess, freePort, kaiArgs, prepareKai, readStartCommand } from './lib/kai-process.js';
import { round } from './lib/stats.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.BENCH_EVENT_ROUNDS ?? 40);
const CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 100);

export function printEvents(result: EventsResult, log: (line: string) => void): void {
  const ms = (value: number) => `${round(value, 1)} ms`;
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  log(`state change -> SSE, after the engine's own event: p50 ${ms(result.sseAfterEngine.p50)} p99 ${ms(result.sseAfterEngine.p99)} (n=${result.sseAfterEngine.count})`);
  log(`state change -> SSE, from the start of the engine call: p50 ${ms(result.sseAfterAction.p50)} p99 ${ms(result.sseAfterAction.p99)}  target p50 <= 50 ms ${verdict(result.sseAfterAction.p50 <= 50)}`);
  log(`state change -> webhook first attempt, after the engine's event: p50 ${ms(result.webhookAfterEngine.p50)} p99 ${ms(result.webhookAfterEngine.p99)}  target p50 <= 250 ms ${verdict(result.webhookAfterEngine.p50 <= 250)}`);
  log(`${result.clients} SSE clients, ${result.eventsPerClient} events each: ${result.clientsMissingEvents} clients missed events ${verdict(result.clientsMissingEvents === 0)}; Kai CPU ${round(result.kaiCpuPercent, 1)} % over ${round(result.wallSeconds, 1)} s`);
}

async function main(): Promise<void> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const id = randomBytes(4).toString('hex');
  const instance = `bench-ev-${id}`;
  const network = `kai-bench-ev-${id}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kai-bench-data-'));
  const hostRoot = mkdtempSync(path.join(tmpdir(), 'kai-bench-root-'));
  const engine = new Engine();
  const start = readStartCommand(REPO);
  const prepared = await prepareKai(REPO, start, log);
  const port = await freePort();
  const password = randomBytes(12).toString('base64url');
  const kai = new KaiProcess(REPO, kaiArgs(start, prepared.mode, []), port, {
    ...start.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    KAI_DATA_DIR: dataDir,
    KAI_HOST_ROOT: hostRoot,
    KAI_INSTANCE: instance,
    DOCKER_NETWORK: network,
    IMAGE_NAME: 'kai-test-busybox:latest',
    KAI_PULL_POLICY: 'never',
    KAI_LOG_LEVEL: 'warn',
    KAI_ADMIN_USERNAME: 'admin',
    KAI_ADMIN_PASSWORD: password,
  });
  const watchdog = setTimeout(() => {
    log('events bench: time budget exceeded, stopping');
    process.exit(2);
  }, 5 * 60_000);
  try {
    await kai.waitHealthy(30_000);
    await kai.login('admin', password);
    const token = (kai.client.defaultHeaders.authorization ?? '').replace('Bearer ', '');
    const ids: string[] = [];
    for (let index = 0; index < 4; index++) {
      const created = await kai.client.request('POST', '/api/flexy', { name: `bench-ev-${id}-${index}`, start: true });
      if (created.status !== 201) throw new Error(`create: HTTP ${created.status} ${created.body.slice(0, 200)}`);
      ids.push((JSON.parse(created.body) as { data: { id: string } }).data.id);
    }
    log(`events bench: Kai (${prepared.mode}) with ${ids.length} running sandboxes; ${ROUNDS} pause/unpause rounds, ${CLIENTS} SSE clients`);
    printEvents(await measureEvents({ kaiPort: port, kaiPid: kai.pid, token, instance, containerIds: ids }, ROUNDS, CLIENTS - 1), log);
  } finally {
    clearTimeout(watchdog);
    await kai.stop().catch(() => undefined);
    const left = await engine.list({ label: [`kai.instance=${instance}`] }).catch(() => []);
    await dockerRmForce(left.map((item) => item.Id)).catch(() => undefined);
    await engine.client.request('DELETE', `/networks/${network}`).catch(() => undefined);
    engine.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(hostRoot, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((error: unknown) => {
    process.stderr.write(`events bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
