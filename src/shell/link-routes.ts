import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { LinkTokens } from '../auth/link-tokens.js';
import { IdParams } from '../flexy/schemas.js';
import { ok, responses } from '../http/envelope.js';
import { optionalBody } from '../http/optional-body.js';
import { StringEnum } from '../http/schema-helpers.js';
import type { Runtime } from '../runtime/types.js';

export interface LinkRoutesOptions {
  runtime: Runtime;
  linkTokens: LinkTokens;
}

export const linkRoutes: FastifyPluginAsyncTypebox<LinkRoutesOptions> = async (app, { runtime, linkTokens }) => {
  app.post(
    '/api/flexy/:id/shell-link',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['shell'],
        summary: 'A single-use link (valid 60 s) that opens the sandbox shell or docs in a new tab or iframe',
        params: IdParams,
        body: Type.Object({ target: Type.Optional(StringEnum(['shell', 'docs'])) }, { additionalProperties: false }),
        response: responses(200, Type.Object({ url: Type.String(), token: Type.String(), expiresAt: Type.String({ format: 'date-time' }) })),
      },
      preValidation: optionalBody,
    },
    async (request) => {
      const container = await runtime.get(request.params.id);
      const kind = request.body.target ?? 'shell';
      const prefix = `/flexy/${container.id}/${kind}/`;
      const { token, expiresAt } = linkTokens.issue(request.principal?.username ?? '', prefix);
      return ok({ url: `${prefix}?token=${token}`, token, expiresAt }, 'Link created; it works once, within 60 seconds');
    },
  );
};
