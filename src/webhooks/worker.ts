import type { Logger } from 'pino';
import { KAI_VERSION } from '../version.js';
import { parseRetryAfter, retryDelayMs } from './retry.js';
import { signedHeaders } from './signing.js';
import type { AttemptResult, DueDelivery, WebhookStore } from './store.js';

/** A receiver that has not answered in this long has failed the attempt. */
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** Attempts in flight at once, over all endpoints. */
const CONCURRENCY = 16;
/** Even with nothing due, look again this often (another process may share the database file). */
const IDLE_POLL_MS = 60_000;
/** Finished deliveries are kept this long for GET …/deliveries. */
const KEEP_FINISHED_MS = 30 * 24 * 3600 * 1000;

export interface DeliveryWorkerOptions {
  retryScheduleSeconds: number[];
  timeoutMs?: number;
}

/**
 * Sends what the outbox holds: each due delivery is POSTed with fresh
 * Standard Webhooks headers (same webhook-id every time), and its outcome
 * recorded before the next look. Pending rows left by a previous run (a
 * crash mid-attempt included) are simply due, so they go out again after a
 * restart: delivery is at least once.
 */
export class DeliveryWorker {
  private readonly inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private started = false;
  private stopped = false;
  private lastPrune = 0;

  constructor(
    private readonly store: WebhookStore,
    private readonly logger: Logger,
    private readonly options: DeliveryWorkerOptions,
  ) {}

  start(): void {
    this.started = true;
    this.kick();
  }

  /** Look for due deliveries soon (a new one was recorded, or one finished). */
  kick(): void {
    if (!this.started || this.stopped || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.tick();
    });
  }

  /** Resolves after the next attempt on `id` has been recorded, or after `timeoutMs`. */
  waitForAttempt(id: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const list = this.waiters.get(id) ?? [];
      list.push(done);
      this.waiters.set(id, list);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // An attempt cut short by shutdown is not counted: the row stays due and goes out after the restart.
    for (const { controller } of this.inFlight.values()) controller.abort();
    await Promise.all([...this.inFlight.values()].map((entry) => entry.done));
    for (const list of this.waiters.values()) for (const done of list) done();
    this.waiters.clear();
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      this.pruneNowAndThen();
      const free = CONCURRENCY - this.inFlight.size;
      if (free > 0) {
        const due = this.store.due(Date.now(), free + this.inFlight.size).filter((d) => !this.inFlight.has(d.id)).slice(0, free);
        for (const delivery of due) this.launch(delivery);
      }
      // The next row not already in flight decides when to look again; finishing attempts kick anyway.
      const next = this.store.upcoming(this.inFlight.size + 1).find((row) => !this.inFlight.has(row.id));
      const wait = next === undefined ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, Math.max(0, next.nextAttemptAt - Date.now()));
      // Due but no free slot: a finishing attempt will kick; until then, the idle poll.
      this.timer = setTimeout(() => this.tick(), wait > 0 ? wait : this.inFlight.size < CONCURRENCY ? 10 : IDLE_POLL_MS);
      this.timer.unref();
    } catch (error) {
      this.logger.error({ err: error }, 'webhook outbox read failed');
      this.timer = setTimeout(() => this.tick(), 5_000);
    }
  }

  private pruneNowAndThen(): void {
    if (Date.now() - this.lastPrune < 3600_000) return;
    this.lastPrune = Date.now();
    this.store.prune(new Date(Date.now() - KEEP_FINISHED_MS).toISOString());
  }

  private launch(delivery: DueDelivery): void {
    const controller = new AbortController();
    const done = this.attempt(delivery, controller)
      .catch((error: unknown) => this.logger.error({ err: error, delivery: delivery.id }, 'webhook attempt failed unexpectedly'))
      .finally(() => {
        this.inFlight.delete(delivery.id);
        for (const resolve of this.waiters.get(delivery.id) ?? []) resolve();
        this.waiters.delete(delivery.id);
        this.kick();
      });
    this.inFlight.set(delivery.id, { controller, done });
  }

  private async attempt(delivery: DueDelivery, controller: AbortController): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
    const started = performance.now();
    let result: AttemptResult;
    let retryAfterMs: number | undefined;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': `Kai-Webhooks/${KAI_VERSION}`,
          ...signedHeaders(delivery.secret, delivery.id, new Date(), delivery.payload),
        },
        body: delivery.payload,
        // A redirect is not a 2xx: it counts as a failed attempt.
        redirect: 'manual',
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)]),
      });
      await response.body?.cancel().catch(() => undefined);
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      const ok = response.status >= 200 && response.status < 300;
      result = { statusCode: response.status, error: ok ? null : `answered HTTP ${response.status}`, durationMs: performance.now() - started };
    } catch (error) {
      if (controller.signal.aborted) return; // shutting down: not an attempt
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const timedOut = (error as Error).name === 'TimeoutError';
      const message = timedOut ? `no answer within ${timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? (error as Error).message);
      result = { statusCode: null, error: message, durationMs: performance.now() - started };
    }
    if (this.stopped) return;
    this.finish(delivery, result, retryAfterMs);
  }

  private finish(delivery: DueDelivery, result: AttemptResult, retryAfterMs: number | undefined): void {
    const status = result.statusCode;
    if (status !== null && status >= 200 && status < 300) {
      this.store.recordAttempt(delivery.id, result, { status: 'succeeded', nextAttemptAt: null });
      return;
    }
    if (status === 410) {
      // Gone: the receiver says it wants nothing more. Stop sending to it until an admin enables it again.
      this.store.recordAttempt(delivery.id, { ...result, error: 'answered 410 Gone: endpoint disabled' }, { status: 'failed', nextAttemptAt: null });
      this.store.disable(delivery.webhookId, 'The endpoint answered 410 Gone');
      this.logger.warn({ webhook: delivery.webhookId }, 'webhook endpoint answered 410 Gone; disabled');
      return;
    }
    const attempts = delivery.attempts + 1;
    const delay = retryDelayMs(this.options.retryScheduleSeconds, attempts, retryAfterMs);
    if (delay === undefined) {
      this.store.recordAttempt(delivery.id, { ...result, error: `${result.error ?? 'failed'}; gave up after ${attempts} attempts` }, { status: 'failed', nextAttemptAt: null });
      this.logger.warn({ webhook: delivery.webhookId, delivery: delivery.id, attempts }, 'webhook delivery failed for good');
      return;
    }
    this.store.recordAttempt(delivery.id, result, { status: 'pending', nextAttemptAt: Date.now() + delay });
  }
}
