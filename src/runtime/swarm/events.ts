import type Dockerode from 'dockerode';
import type { EngineAction, EngineEvent, EngineEventStream, FlexyStatus, FlexySummary } from '../types.js';

/** One sandbox as the last look at the cluster saw it. */
export interface Observed {
  summary: FlexySummary;
  /** The task behind a running status: a new one while still running means a restart. */
  taskId: string | null;
  exitCode: number | null;
}

export type Observe = () => Promise<Map<string, Observed>>;

/** While something is changing (or just after the manager said so), look often; otherwise now and then. */
const BUSY_POLL_MS = 200;
const IDLE_POLL_MS = 1_000;
const BUSY_AFTER_SIGNAL_MS = 5_000;
const SUBSCRIBE_TIMEOUT_MS = 5_000;
const SETTLING: ReadonlySet<FlexyStatus> = new Set(['starting', 'restarting']);

/**
 * The changes between two looks at the cluster, as engine actions. Task
 * state changes on worker nodes raise no event on the manager, so Kai
 * compares snapshots; the manager's service and node events only make it look sooner.
 */
export function diff(before: Map<string, Observed>, after: Map<string, Observed>, time: number, replacing = new Set<string>()): EngineEvent[] {
  const events: EngineEvent[] = [];
  const push = (action: EngineAction, seen: Observed, status: FlexyStatus = seen.summary.status) =>
    events.push({ action, id: seen.summary.id, time, exitCode: action === 'die' || action === 'stop' ? seen.exitCode : null, container: { ...seen.summary, status } });
  for (const [id, old] of before) if (!after.has(id)) push('destroy', old, 'removing');
  for (const [id, now] of after) {
    const old = before.get(id);
    const status = now.summary.status;
    if (!old) {
      push('create', now, 'created');
      if (status === 'running') push('start', now);
      continue;
    }
    const was = old.summary.status;
    if (status === 'running' && was === 'running' && now.taskId !== old.taskId) push('restart', now);
    if (status === was) continue;
    // Running, then a new task on its way (a forced update or a restart after an exit), then running: one restart.
    const replaced = replacing.delete(id);
    if (was === 'running' && (status === 'starting' || status === 'restarting')) replacing.add(id);
    if (status === 'running') push(replaced ? 'restart' : 'start', now);
    else if (status === 'stopped' && was !== 'created') push('stop', now);
    else if ((status === 'error' || status === 'restarting') && was === 'running') push('die', now, status === 'error' ? 'error' : 'stopped');
    else if (status === 'error' && was !== 'error') push('die', now, 'error');
  }
  return events;
}

/**
 * Follows Kai's sandboxes on a Swarm. Resolves once the manager accepted
 * the event subscription and the first snapshot is taken; iteration throws
 * when the manager stops answering, so the watcher reconnects and reconciles.
 */
export async function watchSwarmEvents(manager: Dockerode, observe: Observe): Promise<EngineEventStream> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), SUBSCRIBE_TIMEOUT_MS);
  let raw: NodeJS.ReadableStream;
  try {
    raw = await manager.getEvents({ filters: { type: ['service', 'node'] }, abortSignal: controller.signal } as Dockerode.GetEventsOptions);
  } finally {
    clearTimeout(timer);
  }
  let snapshot = await observe();
  const replacing = new Set<string>();
  let busyUntil = 0;
  let wake: (() => void) | undefined;
  let closed = false;
  let streamError: Error | undefined;
  const signal = () => {
    busyUntil = Date.now() + BUSY_AFTER_SIGNAL_MS;
    wake?.();
  };
  raw.on('data', signal);
  raw.on('error', (error: Error) => {
    streamError = error;
    wake?.();
  });
  raw.on('end', () => {
    streamError ??= new Error('the manager closed the event stream');
    wake?.();
  });
  const close = () => {
    closed = true;
    controller.abort();
    (raw as unknown as { destroy?: () => void }).destroy?.();
    wake?.();
  };
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timeout = setTimeout(done, ms);
      function done() {
        clearTimeout(timeout);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function* iterate(): AsyncGenerator<EngineEvent> {
    try {
      while (!closed) {
        const settling = [...snapshot.values()].some((seen) => SETTLING.has(seen.summary.status));
        await pause(settling || Date.now() < busyUntil ? BUSY_POLL_MS : IDLE_POLL_MS);
        if (closed) return;
        if (streamError) throw streamError;
        const next = await observe();
        const events = diff(snapshot, next, Date.now(), replacing);
        snapshot = next;
        for (const event of events) yield event;
      }
    } finally {
      close();
    }
  }
  const iterator = iterate();
  return { close, [Symbol.asyncIterator]: () => iterator };
}
