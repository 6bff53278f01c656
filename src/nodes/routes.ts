import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ok, responses } from '../http/envelope.js';
import { StringEnum } from '../http/schema-helpers.js';
import type { Runtime } from '../runtime/types.js';

export const NodeSchema = Type.Object({
  id: Type.String(),
  hostname: Type.String(),
  address: Type.String({ description: 'Where Kai reaches ports published on this node' }),
  role: StringEnum(['manager', 'worker']),
  state: Type.String({ description: 'ready, down, unknown or disconnected, as the engine reports it' }),
  availability: Type.String({ description: 'active, pause or drain' }),
  sandboxes: Type.Integer({ description: "Kai's sandboxes running or starting on this node" }),
  cpus: Type.Number(),
  memoryBytes: Type.Integer(),
});

const NodeList = Type.Object({ nodes: Type.Array(NodeSchema) });

export interface NodeRoutesOptions {
  runtime: Runtime;
}

/** The machines sandboxes run on: the Swarm's nodes, or the one Docker engine. */
export const nodeRoutes: FastifyPluginAsyncTypebox<NodeRoutesOptions> = async (app, { runtime }) => {
  app.get(
    '/api/nodes',
    { schema: { tags: ['nodes'], summary: 'Machines sandboxes run on, with their sandbox count, CPUs and memory', response: responses(200, NodeList) } },
    async () => ok({ nodes: await runtime.nodes() }, 'Nodes retrieved successfully'),
  );
};
