import { Type } from '@sinclair/typebox';
import { FlexySummarySchema } from '../flexy/schemas.js';
import { Envelope, ErrorEnvelope } from '../http/envelope.js';
import { Nullable, StringEnum } from '../http/schema-helpers.js';
import { KAI_EVENT_TYPES } from './types.js';

export const KaiEventTypeSchema = StringEnum(KAI_EVENT_TYPES);

export const KaiEventSchema = Type.Object(
  {
    id: Type.String({ description: 'Also the SSE id; send it back as Last-Event-ID to resume' }),
    type: KaiEventTypeSchema,
    timestamp: Type.String({ format: 'date-time' }),
    container: FlexySummarySchema,
    exitCode: Nullable(Type.Integer()),
    reconciled: Type.Boolean({ description: 'Found by comparing with a fresh list after (re)connecting to the engine' }),
  },
  { description: 'The data of each SSE event; the SSE event name is `type`' },
);

/** An SSE route's answer: the stream, or the error envelope when it cannot start. */
export function sseResponses(description: string) {
  return {
    200: { description, content: { 'text/event-stream': { schema: Type.String() } } },
    '4xx': ErrorEnvelope,
    '5xx': ErrorEnvelope,
  };
}

export const EventsQuery = Type.Object(
  {
    lastEventId: Type.Optional(Type.String({ maxLength: 64, description: 'Same as the Last-Event-ID header, for clients that cannot set headers' })),
  },
  { additionalProperties: false },
);

export const LogsQuery = Type.Object(
  {
    tail: Type.String({ pattern: '^(all|[0-9]{1,5})$', default: '100', 'x-message': 'must be a number of lines (0-99999) or "all"' }),
    since: Type.Optional(
      Type.String({
        pattern: '^([0-9]{1,12}(\\.[0-9]{1,9})?|\\d{4}-\\d{2}-\\d{2}T[0-9:.]+(Z|[+-]\\d{2}:\\d{2}))$',
        'x-message': 'must be UNIX seconds or an ISO-8601 date-time',
      }),
    ),
    timestamps: Type.Boolean({ default: false }),
    follow: Type.Boolean({ default: false, description: 'Stream as SSE (`log` events, then `end`) until the client leaves or the container stops' }),
  },
  { additionalProperties: false },
);

export const LogLineSchema = Type.Object({
  stream: StringEnum(['stdout', 'stderr']),
  line: Type.String(),
  timestamp: Nullable(Type.String()),
});

export const LogsResult = Type.Object({
  id: Type.String(),
  tty: Type.Boolean({ description: 'A TTY container has one raw stream: every line is reported as stdout' }),
  lines: Type.Array(LogLineSchema),
  truncated: Type.Boolean({ description: 'More lines matched than one answer holds (10000); ask with a smaller tail or since' }),
});

export const StatsQuery = Type.Object(
  { stream: Type.Boolean({ default: false, description: 'Stream as SSE (`stats` events, about one a second)' }) },
  { additionalProperties: false },
);

export const StatsSchema = Type.Object({
  id: Type.String(),
  read: Type.String({ format: 'date-time' }),
  cpuPercent: Type.Number({ description: 'Percent of one CPU, as docker stats shows it' }),
  onlineCpus: Type.Integer(),
  memory: Type.Object({ usedBytes: Type.Integer(), limitBytes: Type.Integer(), percent: Type.Number() }),
  network: Type.Object({ rxBytes: Type.Integer(), txBytes: Type.Integer() }),
  blockIo: Type.Object({ readBytes: Type.Integer(), writeBytes: Type.Integer() }),
  pids: Type.Integer(),
});

/** JSON envelope normally, an SSE stream when the query asks to follow. */
export function jsonOrSse<T extends Parameters<typeof Envelope>[0]>(data: T, streamDescription: string) {
  return {
    200: {
      description: `The envelope, or with the streaming flag: ${streamDescription}`,
      content: { 'application/json': { schema: Envelope(data) }, 'text/event-stream': { schema: Type.String() } },
    },
    '4xx': ErrorEnvelope,
    '5xx': ErrorEnvelope,
  };
}
