import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { validationError } from '../errors.js';
import { IdParams } from '../flexy/schemas.js';
import { ok } from '../http/envelope.js';
import type { LogLine, Runtime } from '../runtime/types.js';
import { LogsQuery, LogsResult, StatsQuery, StatsSchema, jsonOrSse } from './schemas.js';
import type { SseConnections, SseStream } from './sse.js';

/** Most lines one JSON answer carries; follow (SSE) has no limit. */
const MAX_LINES = 10_000;

export interface ContainerStreamRoutesOptions {
  runtime: Runtime;
  sse: SseConnections;
}

function parseSince(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^[0-9.]+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) throw validationError('query.since', 'must be UNIX seconds or an ISO-8601 date-time');
  return ms;
}

/** Sends each item as an SSE event until the source ends or the client leaves, waiting for slow clients. */
async function pump<T>(stream: SseStream, source: AsyncIterable<T> & { close(): void }, event: string): Promise<void> {
  stream.onClose(() => source.close());
  try {
    for await (const item of source) {
      if (!stream.send(event, item)) break;
      await stream.drained();
    }
  } catch {
    // The engine went away mid-stream: tell the client it ended.
  }
  stream.send('end', {});
  stream.close();
}

/** Logs and resource use of one Flexy container: viewers may read both. */
export const containerStreamRoutes: FastifyPluginAsyncTypebox<ContainerStreamRoutesOptions> = async (app, { runtime, sse }) => {
  app.get(
    '/api/flexy/:id/logs',
    {
      schema: {
        tags: ['flexy'],
        summary: 'Recent log lines, stdout and stderr told apart; follow=true streams them as SSE',
        params: IdParams,
        querystring: LogsQuery,
        response: jsonOrSse(LogsResult, 'text/event-stream of `log` events ({stream, line, timestamp}) ending with `end`'),
      },
    },
    async (request, reply) => {
      const { tail, since, timestamps, follow } = request.query;
      const logs = await runtime.logs(request.params.id, {
        tail: tail === 'all' ? 'all' : Number(tail),
        since: parseSince(since),
        timestamps,
        follow,
      });
      if (follow) {
        void pump(sse.start(reply), logs, 'log');
        return reply;
      }
      const lines: LogLine[] = [];
      let truncated = false;
      for await (const line of logs) {
        if (lines.length >= MAX_LINES) {
          truncated = true;
          lines.shift();
        }
        lines.push(line);
      }
      return reply.type('application/json; charset=utf-8').send(ok({ id: logs.containerId, tty: logs.tty, lines, truncated }, 'Logs retrieved successfully'));
    },
  );

  app.get(
    '/api/flexy/:id/stats',
    {
      schema: {
        tags: ['flexy'],
        summary: 'CPU, memory, network, block I/O and process count of a running container; stream=true as SSE',
        params: IdParams,
        querystring: StatsQuery,
        response: jsonOrSse(StatsSchema, 'text/event-stream of `stats` events, about one a second, ending with `end` when the container stops'),
      },
    },
    async (request, reply) => {
      if (request.query.stream) {
        const samples = await runtime.statsStream(request.params.id);
        void pump(sse.start(reply), samples, 'stats');
        return reply;
      }
      return reply.type('application/json; charset=utf-8').send(ok(await runtime.stats(request.params.id), 'Stats retrieved successfully'));
    },
  );
};
