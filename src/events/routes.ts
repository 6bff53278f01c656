import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { EventHub } from './hub.js';
import { EventsQuery, sseResponses } from './schemas.js';
import type { SseConnections } from './sse.js';

export interface EventRoutesOptions {
  hub: EventHub;
  sse: SseConnections;
}

export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, { hub, sse }) => {
  app.get(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Container lifecycle events as Server-Sent Events; resume with Last-Event-ID',
        querystring: EventsQuery,
        response: sseResponses('text/event-stream: `ready`, then one event per change (name = type, data = the event), heartbeat comments'),
      },
    },
    async (request, reply) => {
      const header = request.headers['last-event-id'];
      const lastEventId = (typeof header === 'string' && header !== '' ? header : undefined) ?? request.query.lastEventId;
      const stream = sse.start(reply);
      // Replay and subscribe in one synchronous step: the hub publishes synchronously, so nothing falls between.
      if (lastEventId !== undefined) {
        const replay = hub.since(lastEventId);
        if (replay.gap) {
          stream.send('resync', { lastEventId, reason: 'Events after this id are no longer held (or the id is from an earlier run of Kai); reload the state' });
        } else {
          for (const event of replay.events) stream.send(event.type, event, event.id);
        }
      }
      const latest = hub.recent().at(-1)?.id ?? `${hub.boot}-0`;
      stream.send('ready', { lastEventId: latest }, lastEventId === undefined || hub.since(lastEventId).gap ? latest : undefined);
      const unsubscribe = hub.subscribe((event) => {
        stream.send(event.type, event, event.id);
      });
      stream.onClose(unsubscribe);
    },
  );
};
