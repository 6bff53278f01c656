/** The longest Kai waits because a receiver asked it to (Retry-After). */
const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

/** Retry-After as delta-seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
}

/**
 * The wait after failed attempt number `attempts` (1-based): the schedule's
 * step with ±20 % jitter (so many failed deliveries do not retry in step),
 * but never less than the receiver's Retry-After. Undefined when the
 * schedule is used up and the delivery has failed for good.
 */
export function retryDelayMs(scheduleSeconds: number[], attempts: number, retryAfterMs?: number): number | undefined {
  const step = scheduleSeconds[attempts - 1];
  if (step === undefined) return undefined;
  const jittered = step * 1000 * (0.8 + Math.random() * 0.4);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}
