import type { FastifyRequest } from 'fastify';

/** preValidation hook for routes whose body is optional: no body validates as `{}`. */
export async function optionalBody(request: FastifyRequest): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}
