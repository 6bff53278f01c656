import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ok, responses } from '../http/envelope.js';
import { optionalBody } from '../http/optional-body.js';
import { listDirectory } from './directories.js';
import { MAX_PATH_LENGTH } from './path-guard.js';

const Entry = { name: Type.String(), path: Type.String(), modified: Type.String({ format: 'date-time' }) };

export const ListingSchema = Type.Object({
  path: Type.String(),
  parent: Type.Union([Type.String(), Type.Null()], { description: 'null at KAI_HOST_ROOT' }),
  root: Type.String({ description: 'KAI_HOST_ROOT, the highest folder that can be listed' }),
  directories: Type.Array(Type.Object(Entry)),
  files: Type.Array(Type.Object({ ...Entry, size: Type.Integer() })),
});

const ListBody = Type.Object(
  { currentPath: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_PATH_LENGTH })) },
  { additionalProperties: false },
);

export interface HostRoutesOptions {
  hostRoot: string;
}

export const hostRoutes: FastifyPluginAsyncTypebox<HostRoutesOptions> = async (app, { hostRoot }) => {
  app.post(
    '/api/host/directories',
    {
      // A POST only because the reference puts the path in a body: it reads, so viewers may use it.
      config: { access: 'read' },
      schema: {
        tags: ['host'],
        summary: 'List a host folder below KAI_HOST_ROOT',
        body: ListBody,
        response: responses(200, ListingSchema),
      },
      preValidation: optionalBody,
    },
    async (request) => ok(await listDirectory(hostRoot, request.body.currentPath), 'Directory listing retrieved successfully'),
  );
};
