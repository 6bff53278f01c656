import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type {} from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { KaiError } from '../errors.js';
import { IdParams } from '../flexy/schemas.js';
import { ok, responses } from '../http/envelope.js';
import type { Runtime } from '../runtime/types.js';
import type { TerminalManager } from './terminal-manager.js';
import type { TerminalSession } from './terminal-session.js';

declare module 'fastify' {
  interface FastifyRequest {
    terminalSession?: TerminalSession;
  }
}

/** How often Kai pings a terminal viewer; one missed pong and the viewer is dropped (its session lives on). */
const PING_INTERVAL_MS = 20_000;

const TerminalQuery = Type.Object(
  {
    session: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Reattach to this session instead of opening a new one' })),
    cols: Type.Integer({ minimum: 1, maximum: 1000, default: 80 }),
    rows: Type.Integer({ minimum: 1, maximum: 1000, default: 24 }),
  },
  { additionalProperties: false },
);

const SessionSchema = Type.Object({
  id: Type.String(),
  containerId: Type.String(),
  owner: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  viewers: Type.Integer(),
  cols: Type.Integer(),
  rows: Type.Integer(),
});

interface ControlMessage {
  type?: unknown;
  cols?: unknown;
  rows?: unknown;
  data?: unknown;
}

const isSize = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 1000;

function handleControl(session: TerminalSession, text: string): void {
  let message: ControlMessage;
  try {
    message = JSON.parse(text) as ControlMessage;
  } catch {
    return; // not a control message: ignored rather than typed into the shell
  }
  if (message.type === 'resize' && isSize(message.cols) && isSize(message.rows)) session.resize(message.cols, message.rows);
  else if (message.type === 'input' && typeof message.data === 'string') session.input(message.data);
}

function keepAlive(socket: WebSocket): () => void {
  let alive = true;
  socket.on('pong', () => {
    alive = true;
  });
  const timer = setInterval(() => {
    if (!alive) {
      socket.terminate();
      return;
    }
    alive = false;
    socket.ping();
  }, PING_INTERVAL_MS);
  return () => clearInterval(timer);
}

export interface TerminalRoutesOptions {
  runtime: Runtime;
  terminals: TerminalManager;
}

export const terminalRoutes: FastifyPluginAsyncTypebox<TerminalRoutesOptions> = async (app, { runtime, terminals }) => {
  const tags = ['shell'];

  app.route({
    method: 'GET',
    url: '/api/flexy/:id/terminal',
    config: { access: 'admin', upgrade: true },
    schema: {
      tags,
      summary: 'WebSocket: a shell in the container (binary frames both ways; JSON text frames for control, see docs/api.md)',
      params: IdParams,
      querystring: TerminalQuery,
    },
    // Resolved before the upgrade, so a missing container or session is an ordinary HTTP error.
    preHandler: async (request) => {
      const { session, cols, rows } = request.query;
      if (session) {
        const container = await runtime.get(request.params.id);
        request.terminalSession = terminals.find(session, container.id);
      } else {
        request.terminalSession = await terminals.open(request.params.id, request.principal?.username ?? 'unknown', { cols, rows });
      }
    },
    handler: async () => {
      throw new KaiError('VALIDATION_ERROR', 'This endpoint speaks WebSocket: send an Upgrade request', {
        fields: [{ field: 'headers.upgrade', message: 'must be websocket' }],
      });
    },
    wsHandler: (socket, request) => {
      const session = request.terminalSession;
      if (!session) {
        socket.close(1011, 'no terminal session');
        return;
      }
      const stopKeepAlive = keepAlive(socket);
      terminals.attach(session, socket);
      socket.on('message', (data, isBinary) => {
        if (isBinary) session.input(data as Buffer);
        else handleControl(session, data.toString());
      });
      socket.on('close', () => {
        stopKeepAlive();
        terminals.detach(session, socket);
      });
      socket.on('error', () => socket.terminate());
    },
  });

  app.get(
    '/api/flexy/:id/terminals',
    {
      config: { access: 'admin' },
      schema: { tags, summary: "The container's built-in terminal sessions", params: IdParams, response: responses(200, Type.Object({ sessions: Type.Array(SessionSchema) })) },
    },
    async (request) => {
      const container = await runtime.get(request.params.id);
      return ok({ sessions: terminals.list(container.id) }, 'Terminal sessions retrieved');
    },
  );

  app.delete(
    '/api/flexy/:id/terminals/:session',
    {
      schema: {
        tags,
        summary: 'Close a terminal session: its shell and everything started from it end',
        params: Type.Object({ id: IdParams.properties.id, session: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: responses(200, Type.Object({ id: Type.String() })),
      },
    },
    async (request) => {
      const container = await runtime.get(request.params.id);
      await terminals.close(terminals.find(request.params.session, container.id));
      return ok({ id: request.params.session }, 'Terminal session closed');
    },
  );
};
