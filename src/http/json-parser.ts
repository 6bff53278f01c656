import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { validationError } from '../errors.js';

/**
 * JSON bodies: an empty body counts as no body (clients often send the JSON
 * content type on a bare POST), bad JSON and prototype-poisoning keys are a
 * 400 naming the body.
 */
export function registerJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(validationError('body', 'is not valid JSON'), undefined);
    }
  });
}
