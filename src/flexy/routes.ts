import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ok, responses } from '../http/envelope.js';
import { ActionResult, CreateBody, DeleteResult, FlexyDetailsSchema, FlexySummarySchema, IdParams, ListQuery, ListResult } from './schemas.js';
import type { FlexyService } from './service.js';

export interface FlexyRoutesOptions {
  flexy: FlexyService;
}

const tags = ['flexy'];

export const flexyRoutes: FastifyPluginAsyncTypebox<FlexyRoutesOptions> = async (app, { flexy }) => {
  app.get(
    '/api/flexy',
    { schema: { tags, summary: 'List Flexy containers, newest first', querystring: ListQuery, response: responses(200, ListResult) } },
    async (request) => ok(await flexy.list(request.query), 'Containers retrieved successfully'),
  );

  app.post(
    '/api/flexy',
    { schema: { tags, summary: 'Create a Flexy container', body: CreateBody, response: responses(201, FlexySummarySchema) } },
    async (request, reply) => reply.code(201).send(ok(await flexy.create(request.body), 'Container created successfully')),
  );

  app.get(
    '/api/flexy/:id',
    { schema: { tags, summary: 'Details of a Flexy container', params: IdParams, response: responses(200, FlexyDetailsSchema) } },
    async (request) => ok(await flexy.get(request.params.id), 'Container details retrieved successfully'),
  );

  app.delete(
    '/api/flexy/:id',
    { schema: { tags, summary: 'Remove a Flexy container (running or not); the host folder is untouched', params: IdParams, response: responses(200, DeleteResult) } },
    async (request) => {
      const { id } = await flexy.remove(request.params.id);
      return ok({ id }, 'Container deleted successfully');
    },
  );

  const actions = [
    { verb: 'start', status: 'starting', message: 'Container start request submitted', run: (ref: string) => flexy.start(ref) },
    { verb: 'stop', status: 'stopping', message: 'Container stop request submitted', run: (ref: string) => flexy.stop(ref) },
    { verb: 'restart', status: 'restarting', message: 'Container restart request submitted', run: (ref: string) => flexy.restart(ref) },
  ] as const;

  for (const action of actions) {
    app.post(
      `/api/flexy/:id/${action.verb}`,
      {
        schema: {
          tags,
          summary: `${action.verb[0]?.toUpperCase()}${action.verb.slice(1)} a Flexy container (answers once the engine has done it)`,
          params: IdParams,
          response: responses(200, ActionResult(action.status)),
        },
      },
      async (request) => {
        const { id } = await action.run(request.params.id);
        return ok({ id, status: action.status }, action.message);
      },
    );
  }
};
