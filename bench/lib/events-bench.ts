import { readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DOCKER_SOCKET } from './engine.js';
import { summarize, type Summary } from './stats.js';

/**
 * Live-state figures: how long after the engine announces a state change
 * Kai's SSE clients and a webhook receiver hear of it, and whether 100 SSE
 * clients all get every event while Kai's CPU stays low. The engine's own
 * /events stream, read by the bench at the same time, is the reference clock.
 */

export interface EventsContext {
  kaiPort: number;
  kaiPid: number;
  token: string;
  instance: string;
  /** Running Kai containers to pause and unpause. */
  containerIds: string[];
}

export interface EventsResult {
  rounds: number;
  /** SSE arrival minus the engine's own event arrival (what Kai adds). */
  sseAfterEngine: Summary;
  /** SSE arrival minus the start of the engine call that changed the state. */
  sseAfterAction: Summary;
  /** Webhook receipt (first attempt) minus the engine's own event arrival. */
  webhookAfterEngine: Summary;
  clients: number;
  eventsPerClient: number;
  clientsMissingEvents: number;
  kaiCpuPercent: number;
  wallSeconds: number;
}

interface SseMessage {
  event: string;
  data: string;
}

/** A minimal SSE reader over node:http: calls back with each event and the time it arrived. */
function openSse(port: number, path: string, headers: Record<string, string>, onEvent: (message: SseMessage, at: number) => void): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`SSE ${path}: HTTP ${response.statusCode}`));
        response.resume();
        return;
      }
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        const at = performance.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trim());
          }
          if (data.length > 0) onEvent({ event, data: data.join('\n') }, at);
        }
      });
      resolve(() => request.destroy());
    });
    request.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    request.end();
  });
}

/** The engine's own /events for Kai's containers: the time each (id, action) was announced. */
function openEngineEvents(instance: string, onEvent: (id: string, action: string, at: number) => void): () => void {
  const filters = encodeURIComponent(JSON.stringify({ type: ['container'], label: ['kai.managed=true', `kai.instance=${instance}`] }));
  const request = http.request({ socketPath: DOCKER_SOCKET, path: `/events?filters=${filters}`, headers: { host: 'docker' } }, (response) => {
    let buffer = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      const at = performance.now();
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, end).trim();
        buffer = buffer.slice(end + 1);
        if (!line) continue;
        const event = JSON.parse(line) as { Action: string; Actor?: { ID?: string }; id?: string };
        onEvent(event.Actor?.ID ?? event.id ?? '', event.Action, at);
      }
    });
  });
  request.on('error', () => undefined);
  request.end();
  return () => request.destroy();
}

function engineCall(method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath: DOCKER_SOCKET, method, path, headers: { host: 'docker' } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end();
  });
}

function kaiCall(ctx: EventsContext, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port: ctx.kaiPort,
        method,
        path,
        headers: { authorization: `Bearer ${ctx.token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** User + system CPU seconds of a process so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const TRACKED = new Set(['pause', 'unpause']);

export async function measureEvents(ctx: EventsContext, rounds: number, extraClients: number): Promise<EventsResult> {
  const key = (id: string, action: string, round: number) => `${id}|${action}|${round}`;
  const engineSeen = new Map<string, number>();
  const kaiSeen = new Map<string, number>();
  const hookSeen = new Map<string, number>();
  const roundOf = new Map<string, number>();
  const counters = new Map<string, number>();
  const next = (id: string, action: string, map: Map<string, number>) => {
    const name = `${map === engineSeen ? 'e' : map === kaiSeen ? 'k' : 'h'}|${id}|${action}`;
    const count = counters.get(name) ?? 0;
    counters.set(name, count + 1);
    return count;
  };

  const stopEngine = openEngineEvents(ctx.instance, (id, action, at) => {
    if (TRACKED.has(action)) engineSeen.set(key(id, action, next(id, action, engineSeen)), at);
  });

  // A webhook receiver on loopback that answers 204 at once.
  const receiver = http.createServer((request, response) => {
    const at = performance.now();
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      response.writeHead(204).end();
      const event = JSON.parse(body) as { type: string; data?: { container?: { id?: string } } };
      const action = event.type === 'container.paused' ? 'pause' : event.type === 'container.unpaused' ? 'unpause' : undefined;
      const id = event.data?.container?.id;
      if (action && id) hookSeen.set(key(id, action, next(id, action, hookSeen)), at);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverPort = (receiver.address() as { port: number }).port;
  const hook = await kaiCall(ctx, 'POST', '/api/settings/webhooks', {
    url: `http://127.0.0.1:${receiverPort}/hook`,
    events: ['container.paused', 'container.unpaused'],
    description: 'bench',
  });
  if (hook.status !== 201) throw new Error(`webhook create: HTTP ${hook.status} ${hook.body.slice(0, 200)}`);

  const auth = { authorization: `Bearer ${ctx.token}` };
  const stopMain = await openSse(ctx.kaiPort, '/api/events', auth, (message, at) => {
    if (message.event !== 'container.paused' && message.event !== 'container.unpaused') return;
    const data = JSON.parse(message.data) as { container?: { id?: string } };
    const action = message.event === 'container.paused' ? 'pause' : 'unpause';
    const id = data.container?.id ?? '';
    kaiSeen.set(key(id, action, next(id, action, kaiSeen)), at);
  });

  // The crowd: more SSE clients that only count what they receive.
  const received = new Array<number>(extraClients).fill(0);
  const stops: Array<() => void> = [];
  for (let client = 0; client < extraClients; client++) {
    stops.push(
      await openSse(ctx.kaiPort, '/api/events', auth, (message) => {
        if (message.event === 'container.paused' || message.event === 'container.unpaused') received[client]! += 1;
      }),
    );
  }
  await sleep(500);

  const actionStart = new Map<string, number>();
  const cpuBefore = cpuSeconds(ctx.kaiPid);
  const wallStart = performance.now();
  let changes = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const id = ctx.containerIds[round % ctx.containerIds.length]!;
      const cycle = Math.floor(round / ctx.containerIds.length);
      for (const action of ['pause', 'unpause'] as const) {
        actionStart.set(key(id, action, cycle), performance.now());
        const status = await engineCall('POST', `/containers/${id}/${action}`);
        if (status !== 204) throw new Error(`${action} ${id}: HTTP ${status}`);
        changes++;
        await sleep(50);
      }
    }
    // Let the last events and webhooks arrive.
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline && (hookSeen.size < changes || kaiSeen.size < changes)) await sleep(50);
  } finally {
    for (const stop of stops) stop();
    stopMain();
    stopEngine();
    receiver.close();
    const created = JSON.parse(hook.body) as { data?: { id?: string } };
    if (created.data?.id) await kaiCall(ctx, 'DELETE', `/api/settings/webhooks/${created.data.id}`).catch(() => undefined);
  }
  const wallSeconds = (performance.now() - wallStart) / 1000;
  const cpu = cpuSeconds(ctx.kaiPid) - cpuBefore;

  const afterEngine: number[] = [];
  const afterAction: number[] = [];
  const hookAfterEngine: number[] = [];
  for (const [name, engineAt] of engineSeen) {
    const kaiAt = kaiSeen.get(name);
    if (kaiAt !== undefined) afterEngine.push(kaiAt - engineAt);
    const startAt = actionStart.get(name);
    if (kaiAt !== undefined && startAt !== undefined) afterAction.push(kaiAt - startAt);
    const hookAt = hookSeen.get(name);
    if (hookAt !== undefined) hookAfterEngine.push(hookAt - engineAt);
  }
  return {
    rounds,
    sseAfterEngine: summarize(afterEngine),
    sseAfterAction: summarize(afterAction),
    webhookAfterEngine: summarize(hookAfterEngine),
    clients: extraClients + 1,
    eventsPerClient: changes,
    clientsMissingEvents: received.filter((count) => count < changes).length + (kaiSeen.size < changes ? 1 : 0),
    kaiCpuPercent: (cpu / wallSeconds) * 100,
    wallSeconds,
  };
}
