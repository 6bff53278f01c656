import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KaiError } from '../errors.js';
import { errorPage, wantsHtml } from '../shell/error-page.js';
import { failure } from './envelope.js';
import { fieldErrors } from './validation.js';

/** Fastify's own request errors (content type, body size, JSON, URL) that are the client's doing. */
function requestProblem(error: FastifyError): { field: string; message: string } | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { field: 'headers.content-type', message: 'must be application/json' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { field: 'body', message: 'is too large' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { field: 'body', message: 'is not valid JSON' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { field: 'headers.content-length', message: 'does not match the body' };
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_INVALID_URL':
      return { field: 'url', message: 'is not a valid URL' };
    default:
      return undefined;
  }
}

export function sendError(error: FastifyError | KaiError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // A refused upgrade leaves the socket outside the HTTP parser: the client must not reuse it.
  if (request.headers.upgrade !== undefined) {
    reply.header('connection', 'close');
    reply.raw.once('finish', () => request.raw.socket?.destroy());
  }
  if (error instanceof KaiError) {
    if (error.statusCode >= 500) request.log.warn({ code: error.code, msg: error.message }, 'request failed');
    // Pages a browser opens directly (the sandbox shell) get a readable page; API clients the envelope.
    if (request.routeOptions.config?.htmlErrors && wantsHtml(request.headers.accept)) {
      return reply.code(error.statusCode).type('text/html; charset=utf-8').send(errorPage(error.statusCode, error.code.replaceAll('_', ' ').toLowerCase(), error.message));
    }
    return reply.code(error.statusCode).send(failure(error.code, error.message, error.details));
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const fields = fieldErrors(fastifyError.validation as never, fastifyError.validationContext);
    const summary = fields.map((field) => `${field.field} ${field.message}`).join('; ');
    return reply.code(400).send(failure('VALIDATION_ERROR', `Invalid request: ${summary}`, { fields }));
  }
  const problem = requestProblem(fastifyError);
  if (problem || (fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500)) {
    const field = problem ?? { field: 'request', message: 'is malformed' };
    return reply
      .code(400)
      .send(failure('VALIDATION_ERROR', `Invalid request: ${field.field} ${field.message}`, { fields: [field] }));
  }
  request.log.error({ err: error }, 'unexpected error');
  return reply.code(500).send(failure('INTERNAL_ERROR', 'An unexpected error occurred; it has been logged'));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(failure('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}
