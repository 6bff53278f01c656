import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ErrorEnvelope, ok, responses } from '../http/envelope.js';
import { Nullable } from '../http/schema-helpers.js';
import { optionalBody } from '../http/optional-body.js';
import { AbsolutePath, ContainerName, EnvMap, FlexyDetailsSchema, ImageRef, NodeRef } from '../flexy/schemas.js';
import type { FlexyService } from '../flexy/service.js';
import { catalogItemNotFound, type CatalogLauncher } from './launch.js';
import type { CatalogStore } from './store.js';

export const CatalogItemSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  hostPath: Type.String(),
  containerId: Nullable(Type.String()),
  node: Nullable(Type.String({ description: 'Swarm node that holds the folder; new sandboxes for this item are pinned there' })),
  createdAt: Type.String({ format: 'date-time' }),
});

const ItemParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const AddBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^(?=.*[\\p{L}\\p{N}])[^\\p{Cc}]+$',
      'x-message': 'must contain a letter or digit and no control characters',
    }),
    hostPath: AbsolutePath,
    node: Type.Optional({ ...NodeRef, description: 'Swarm only: node id or hostname that holds the folder (GET /api/nodes)' }),
  },
  { additionalProperties: false },
);

const LaunchBody = Type.Object(
  {
    name: Type.Optional(ContainerName),
    image: Type.Optional(ImageRef),
    env: Type.Optional(EnvMap),
    node: Type.Optional({ ...NodeRef, description: "Node for a newly created sandbox, instead of the item's own" }),
  },
  { additionalProperties: false },
);

export const LaunchResultSchema = Type.Object({
  item: CatalogItemSchema,
  container: FlexyDetailsSchema,
  created: Type.Boolean({ description: 'false when the existing container was started instead' }),
});

export interface CatalogRoutesOptions {
  store: CatalogStore;
  flexy: FlexyService;
  launcher: CatalogLauncher;
}

const tags = ['catalog'];

export const catalogRoutes: FastifyPluginAsyncTypebox<CatalogRoutesOptions> = async (app, { store, flexy, launcher }) => {
  app.get(
    '/api/catalog/flexy',
    { schema: { tags, summary: 'List catalog items, newest first', querystring: Type.Object({}, { additionalProperties: false }), response: responses(200, Type.Object({ items: Type.Array(CatalogItemSchema) })) } },
    async () => ok({ items: store.list() }, 'Catalog items retrieved successfully'),
  );

  app.post(
    '/api/catalog/flexy',
    { schema: { tags, summary: 'Add a project folder to the catalog', body: AddBody, response: responses(201, CatalogItemSchema) } },
    async (request, reply) => {
      const hostPath = await flexy.confineHostPath(request.body.hostPath);
      const node = request.body.node === undefined ? null : await flexy.checkNode(request.body.node);
      const item = store.add({ name: request.body.name.trim(), hostPath, node });
      return reply.code(201).send(ok(item, 'Catalog item added successfully'));
    },
  );

  app.delete(
    '/api/catalog/flexy/:id',
    {
      schema: {
        tags,
        summary: 'Remove a catalog item; its container, if any, is left alone',
        params: ItemParams,
        response: responses(200, Type.Object({ id: Type.String() })),
      },
    },
    async (request) => {
      if (!store.remove(request.params.id)) throw catalogItemNotFound(request.params.id);
      return ok({ id: request.params.id }, 'Catalog item removed successfully');
    },
  );

  app.post(
    '/api/catalog/flexy/:id/launch',
    {
      schema: {
        tags,
        summary: "Start the item's sandbox, creating it (folder at /workspace) when it has none",
        params: ItemParams,
        body: LaunchBody,
        response: { 200: Envelope(LaunchResultSchema), 201: Envelope(LaunchResultSchema), '4xx': ErrorEnvelope, '5xx': ErrorEnvelope },
      },
      preValidation: optionalBody,
    },
    async (request, reply) => {
      const result = await launcher.launch(request.params.id, request.body);
      return reply
        .code(result.created ? 201 : 200)
        .send(ok(result, result.created ? 'Catalog item launched in a new container' : "Catalog item's container started"));
    },
  );
};
