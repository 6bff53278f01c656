import type { Logger } from 'pino';
import type { EngineEvent, EngineEventStream, FlexyStatus, FlexySummary, Runtime } from '../runtime/types.js';
import type { EventHub } from './hub.js';
import type { SnapshotStore } from './snapshot-store.js';
import type { KaiEventType } from './types.js';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface WatcherStatus {
  state: ConnectionState;
  /** When the state last changed. */
  since: string;
  /** Why the last connection failed or dropped; null once connected. */
  lastError: string | null;
  /** Successful connections after the first. */
  reconnects: number;
}

export interface WatcherOptions {
  /** First retry delay; doubles up to maxBackoffMs, with jitter. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a requested `die` waits for its `stop` before it is reported as container.died. */
  stopWaitMs?: number;
  /** Where the known states survive a restart of Kai. */
  snapshots?: SnapshotStore;
}

/** Writes of the known states are gathered for this long; a crash inside it may repeat a few events. */
const SNAPSHOT_DELAY_MS = 250;

const STOPPED: ReadonlySet<FlexyStatus> = new Set(['stopped', 'error']);

/**
 * Follows the engine's events for Kai's containers and turns them into Kai
 * events on the hub. After every (re)connect it compares a fresh list with
 * what it knew and reports the differences, because the engine replays only
 * a few events and drops slow subscribers. When the engine goes away it
 * retries with growing delays; `status()` is what /api/health reports.
 */
export class ContainerWatcher {
  private readonly known = new Map<string, FlexySummary>();
  /** Containers sent a kill since they last started: their `die` is probably a requested stop. */
  private readonly killed = new Set<string>();
  private readonly pendingDie = new Map<string, { event: EngineEvent; timer: NodeJS.Timeout }>();
  private primed = false;
  private listedAt = 0;
  private stream: EngineEventStream | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private current: WatcherStatus = { state: 'connecting', since: new Date().toISOString(), lastError: null, reconnects: 0 };
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly stopWaitMs: number;

  constructor(
    private readonly runtime: Runtime,
    private readonly hub: EventHub,
    private readonly logger: Logger,
    options: WatcherOptions = {},
  ) {
    this.baseBackoffMs = options.baseBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.stopWaitMs = options.stopWaitMs ?? 1_000;
    this.snapshots = options.snapshots;
    const saved = this.snapshots?.load();
    if (saved) {
      // What Kai knew when it last ran: the first list after start reports what changed since.
      for (const item of saved) this.known.set(item.id, item);
      this.primed = true;
    }
  }

  private readonly snapshots: SnapshotStore | undefined;
  private snapshotTimer: NodeJS.Timeout | undefined;

  /** Saves the known states soon, once for a burst of changes. */
  private scheduleSnapshot(): void {
    if (!this.snapshots || this.snapshotTimer) return;
    this.snapshotTimer = setTimeout(() => this.saveSnapshot(), SNAPSHOT_DELAY_MS);
    this.snapshotTimer.unref();
  }

  private saveSnapshot(): void {
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = undefined;
    try {
      this.snapshots?.save([...this.known.values()]);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not save the watcher snapshot');
    }
  }

  status(): WatcherStatus {
    return { ...this.current };
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stream?.close();
    this.wake?.();
    await this.running;
    for (const id of [...this.pendingDie.keys()]) this.flushDie(id);
    if (this.primed) this.saveSnapshot();
    this.setState('stopped', null);
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let connectedBefore = false;
    while (!this.stopping) {
      try {
        const stream = await this.runtime.watchEvents();
        this.stream = stream;
        if (this.stopping) break;
        // Subscribed first, listed second: nothing can fall between the two.
        const listedAt = Date.now();
        const items = await this.runtime.list({});
        await this.reconcile(items, listedAt);
        if (connectedBefore) this.current.reconnects++;
        connectedBefore = true;
        failures = 0;
        this.setState('connected', null);
        this.logger.info('following engine events');
        for await (const event of stream) this.apply(event);
        if (this.stopping) break;
        throw new Error('the engine closed the event stream');
      } catch (error) {
        this.stream?.close();
        this.stream = undefined;
        if (this.stopping) break;
        failures++;
        const message = error instanceof Error ? error.message : String(error);
        if (this.current.state !== 'disconnected') this.logger.warn({ msg: message }, 'lost engine events; reconnecting');
        this.setState('disconnected', message);
        await this.sleep(this.backoff(failures));
      }
    }
    this.stream?.close();
  }

  private backoff(failures: number): number {
    const delay = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** (failures - 1));
    return Math.round(delay * (0.75 + Math.random() * 0.5));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.wake = undefined;
    });
  }

  private setState(state: ConnectionState, lastError: string | null): void {
    if (this.current.state !== state) this.current.since = new Date().toISOString();
    this.current.state = state;
    this.current.lastError = lastError;
  }

  /** Reports what changed while Kai was not listening. The very first list only sets the baseline. */
  private async reconcile(items: FlexySummary[], listedAt: number): Promise<void> {
    const fresh = new Map(items.map((item) => [item.id, item]));
    this.listedAt = listedAt;
    if (!this.primed) {
      this.primed = true;
      for (const [id, item] of fresh) this.known.set(id, item);
      this.scheduleSnapshot();
      return;
    }
    const at = new Date(listedAt).toISOString();
    for (const [id, old] of this.known) {
      if (!fresh.has(id)) {
        this.known.delete(id);
        this.emit('container.deleted', old, null, at, true);
      }
    }
    for (const [id, now] of fresh) {
      const old = this.known.get(id);
      this.known.set(id, now);
      if (!old) {
        this.emit('container.created', { ...now, status: 'created' }, null, at, true);
        if (now.status === 'running' || now.status === 'paused') this.emit('container.started', { ...now, status: 'running' }, null, at, true);
        if (now.status === 'paused') this.emit('container.paused', now, null, at, true);
        if (STOPPED.has(now.status)) this.emit('container.stopped', now, await this.exitCode(id), at, true);
        continue;
      }
      if (old.status === now.status) continue;
      if (now.status === 'running') this.emit(old.status === 'paused' ? 'container.unpaused' : 'container.started', now, null, at, true);
      else if (now.status === 'paused') {
        if (old.status !== 'running') this.emit('container.started', { ...now, status: 'running' }, null, at, true);
        this.emit('container.paused', now, null, at, true);
      } else if (STOPPED.has(now.status) && !STOPPED.has(old.status)) {
        this.emit('container.stopped', now, await this.exitCode(id), at, true);
      }
    }
  }

  private async exitCode(id: string): Promise<number | null> {
    try {
      return (await this.runtime.get(id)).exitCode;
    } catch {
      return null;
    }
  }

  /** One live engine event. Events from before the last list may already be reported by the reconciliation. */
  private apply(event: EngineEvent): void {
    const { id, action } = event;
    const known = this.known.get(id);
    const beforeList = event.time <= this.listedAt;
    const at = new Date(event.time).toISOString();
    const update = (status: FlexyStatus): FlexySummary => {
      const summary = { ...(known ?? event.container), status };
      this.known.set(id, summary);
      return summary;
    };
    if (action !== 'die' && action !== 'kill') this.flushDie(id, action === 'stop');
    switch (action) {
      case 'create':
        if (known) return;
        this.emit('container.created', update('created'), null, at, false);
        return;
      case 'start':
        this.killed.delete(id);
        if (beforeList && known?.status === 'running') return;
        this.emit('container.started', update('running'), null, at, false);
        return;
      case 'kill':
        this.killed.add(id);
        return;
      case 'die': {
        if (beforeList && known && STOPPED.has(known.status)) return;
        // A Swarm task lost with its node is `error`, not a process that ended.
        update(event.container.status === 'error' ? 'error' : 'stopped');
        if (!this.killed.has(id)) {
          this.emit('container.died', this.known.get(id)!, event.exitCode, at, false);
          return;
        }
        // Requested (kill first): a `stop` normally follows at once and makes it container.stopped.
        const timer = setTimeout(() => this.flushDie(id), this.stopWaitMs);
        this.pendingDie.set(id, { event, timer });
        return;
      }
      case 'stop': {
        const pending = this.pendingDie.get(id);
        this.pendingDie.delete(id);
        if (pending) clearTimeout(pending.timer);
        this.killed.delete(id);
        if (!pending && beforeList && known && STOPPED.has(known.status)) return;
        this.emit('container.stopped', update('stopped'), pending?.event.exitCode ?? null, at, false);
        return;
      }
      case 'restart':
        if (beforeList) return;
        this.emit('container.restarted', update('running'), null, at, false);
        return;
      case 'pause':
        if (beforeList && known?.status === 'paused') return;
        this.emit('container.paused', update('paused'), null, at, false);
        return;
      case 'unpause':
        if (beforeList && known?.status === 'running') return;
        this.emit('container.unpaused', update('running'), null, at, false);
        return;
      case 'destroy':
        this.killed.delete(id);
        if (!known && beforeList) return;
        this.known.delete(id);
        this.emit('container.deleted', known ?? { ...event.container, status: 'removing' }, null, at, false);
        return;
    }
  }

  /** Reports a held `die` as container.died, unless the `stop` that explains it has arrived (`keep`). */
  private flushDie(id: string, keep = false): void {
    const pending = this.pendingDie.get(id);
    if (!pending || keep) return;
    clearTimeout(pending.timer);
    this.pendingDie.delete(id);
    this.killed.delete(id);
    const container = this.known.get(id) ?? { ...pending.event.container, status: 'stopped' as const };
    this.emit('container.died', container, pending.event.exitCode, new Date(pending.event.time).toISOString(), false);
  }

  private emit(type: KaiEventType, container: FlexySummary, exitCode: number | null, timestamp: string, reconciled: boolean): void {
    this.scheduleSnapshot();
    this.hub.publish({ type, timestamp, container: { ...container }, exitCode, reconciled });
  }
}
