import replyFrom from '@fastify/reply-from';
import type {} from '@fastify/websocket';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { WebSocket } from 'ws';
import { CSRF_HEADER, SESSION_COOKIE } from '../auth/guard.js';
import { KaiError } from '../errors.js';
import { DOCS_PORT, SHELL_PORT } from '../runtime/docker/docker-runtime.js';
import type { Runtime } from '../runtime/types.js';
import { relay } from './ws-relay.js';

declare module 'fastify' {
  interface FastifyRequest {
    proxyTarget?: { host: string; port: number };
  }
}

export const TARGETS = { shell: SHELL_PORT, docs: DOCS_PORT } as const;
type TargetKind = keyof typeof TARGETS;

/** Kai's own credentials stay with Kai: its cookie, bearer token and CSRF header never reach the sandbox. */
export function withoutKaiCredentials(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { authorization: _authorization, [CSRF_HEADER]: _csrf, cookie, ...rest } = headers;
  const kept = (cookie ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !part.startsWith(`${SESSION_COOKIE}=`));
  return kept.length > 0 ? { ...rest, cookie: kept.join('; ') } : rest;
}

/** The handshake belongs to each hop: the upstream client makes its own key, version and protocol list. */
const HANDSHAKE_HEADERS = new Set(['host', 'connection', 'upgrade', 'content-length', 'transfer-encoding', 'keep-alive']);

function upstreamHandshakeHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(withoutKaiCredentials(headers))) {
    if (value === undefined || HANDSHAKE_HEADERS.has(name) || name.startsWith('sec-websocket-')) continue;
    result[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

function upstreamPath(request: FastifyRequest): string {
  const rest = (request.params as { '*'?: string })['*'] ?? '';
  const query = request.url.indexOf('?');
  return `/${rest}${query >= 0 ? request.url.slice(query) : ''}`;
}

export interface ProxyRoutesOptions {
  runtime: Runtime;
}

/**
 * /flexy/:id/shell/* → the sandbox's ttyd (9681), /flexy/:id/docs/* → its
 * docs app (8080), HTTP and WebSocket, with the prefix stripped.
 */
export const proxyRoutes: FastifyPluginAsyncTypebox<ProxyRoutesOptions> = async (app, { runtime }) => {
  await app.register(replyFrom, { undici: { connections: 32, pipelining: 1 } });
  // Bodies go to the sandbox as they came: no parsing in this plugin.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  const resolveTarget = (kind: TargetKind) => async (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
    const endpoint = await runtime.endpoint(id, TARGETS[kind]);
    if (endpoint.status !== 'running') {
      throw new KaiError('CONFLICT', `Sandbox "${endpoint.name}" is ${endpoint.status}; start it to use its ${kind}`, { id: endpoint.id, status: endpoint.status });
    }
    if (!endpoint.address) {
      throw new KaiError('NETWORK_ERROR', `Sandbox "${endpoint.name}" does not publish its ${kind} port ${TARGETS[kind]}`, { id: endpoint.id });
    }
    request.proxyTarget = endpoint.address;
  };

  for (const kind of Object.keys(TARGETS) as TargetKind[]) {
    const config = { access: 'admin' as const, linkToken: true, csrfExempt: true, htmlErrors: true };
    const port = TARGETS[kind];

    app.get(`/flexy/:id/${kind}`, { config, helmet: false, schema: { hide: true } }, async (request, reply) => {
      const query = request.url.indexOf('?');
      // ttyd builds its /ws and /token URLs from the page's path: it must end in a slash.
      return reply.redirect(`${request.url.slice(0, query >= 0 ? query : undefined)}/${query >= 0 ? request.url.slice(query) : ''}`, 301);
    });

    const proxyHttp = async (request: FastifyRequest, reply: import('fastify').FastifyReply) => {
      const target = request.proxyTarget!;
      return reply.from(`http://${target.host}:${target.port}${upstreamPath(request)}`, {
        rewriteRequestHeaders: (_original, headers) => withoutKaiCredentials(headers),
        onError: (_reply, { error }) => {
          const code = (error as { code?: string }).code ?? '';
          request.log.info({ code, port }, 'sandbox did not answer');
          void reply.send(new KaiError('NETWORK_ERROR', `Nothing answers on the sandbox's ${kind} port ${port}`, { port }));
        },
      });
    };

    app.route({
      method: 'GET',
      url: `/flexy/:id/${kind}/*`,
      config: { ...config, upgrade: true },
      helmet: false,
      schema: { hide: true },
      preHandler: resolveTarget(kind),
      handler: proxyHttp,
      wsHandler: (socket, request) => {
        const target = request.proxyTarget!;
        const upstream = new WebSocket(`ws://${target.host}:${target.port}${upstreamPath(request)}`, socket.protocol ? [socket.protocol] : [], {
          headers: upstreamHandshakeHeaders(request.headers),
          perMessageDeflate: false,
        });
        relay(socket, upstream);
      },
    });

    app.route({
      method: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url: `/flexy/:id/${kind}/*`,
      config,
      helmet: false,
      schema: { hide: true },
      preHandler: resolveTarget(kind),
      handler: proxyHttp,
    });
  }
};
