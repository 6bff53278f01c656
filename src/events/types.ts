import type { FlexySummary } from '../runtime/types.js';

/** The container lifecycle events Kai reports, on the SSE stream and to webhooks. */
export const KAI_EVENT_TYPES = [
  'container.created',
  'container.started',
  'container.stopped',
  'container.died',
  'container.restarted',
  'container.paused',
  'container.unpaused',
  'container.deleted',
] as const;
export type KaiEventType = (typeof KAI_EVENT_TYPES)[number];

export interface KaiEvent {
  /** `<boot>-<sequence>`: unique per Kai process, increasing within it; the SSE id. */
  id: string;
  type: KaiEventType;
  /** When the change happened (the engine's time), ISO-8601. */
  timestamp: string;
  container: FlexySummary;
  /** The process's exit code on container.died and container.stopped when known, else null. */
  exitCode: number | null;
  /** True when found by comparing with a fresh list after (re)connecting, not from a live engine event. */
  reconciled: boolean;
}

export type KaiEventInput = Omit<KaiEvent, 'id'>;
