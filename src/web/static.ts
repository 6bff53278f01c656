import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { wantsHtml } from '../shell/error-page.js';

/** web/dist, from src/web (tsx) and from dist/web (the build) alike. */
export const DEFAULT_WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/** Paths that belong to the API, the proxied sandbox apps or the OpenAPI document: never the SPA. */
const NOT_THE_APP = /^\/(api|flexy)(\/|$)|^\/openapi\.json$/;

export interface WebRoutesOptions {
  root?: string;
}

/**
 * The built web console: hashed files under /assets cached for a year,
 * other top-level files (icons) for a day, and index.html, never cached, for
 * every other GET a browser opens as a page (the SPA's own routes). All
 * public: the app itself decides when to ask for a login.
 */
export async function webRoutes(app: FastifyInstance, { root = DEFAULT_WEB_ROOT }: WebRoutesOptions = {}): Promise<void> {
  await app.register(fastifyStatic, { root, serve: false });
  const config = { public: true };
  const topLevel = () => new Set(existsSync(root) ? readdirSync(root).filter((name) => name !== 'index.html' && name !== 'assets') : []);

  const sendIndex = (reply: FastifyReply) => {
    if (!existsSync(path.join(root, 'index.html'))) return reply.callNotFound();
    return reply.header('cache-control', 'no-cache').sendFile('index.html', root, { cacheControl: false });
  };

  app.get('/assets/*', { config, schema: { hide: true } }, async (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    const file = request.params['*'];
    if (!file || file.includes('..') || !existsSync(path.join(root, 'assets', file))) return reply.callNotFound();
    return reply.sendFile(file, path.join(root, 'assets'), { maxAge: '365d', immutable: true });
  });

  app.get('/', { config, schema: { hide: true } }, async (_request, reply) => sendIndex(reply));

  app.get('/*', { config, schema: { hide: true } }, async (request, reply) => {
    const pathname = request.url.split('?')[0] ?? '/';
    if (NOT_THE_APP.test(pathname)) return reply.callNotFound();
    const name = pathname.slice(1);
    if (!name.includes('/') && topLevel().has(name)) return reply.sendFile(name, root, { maxAge: '1d', immutable: false });
    if (!wantsHtml(request.headers.accept)) return reply.callNotFound();
    return sendIndex(reply);
  });
}
