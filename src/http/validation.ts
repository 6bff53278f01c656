import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

function makeAjv(coerceTypes: boolean): Ajv {
  // removeAdditional stays off: an unknown field is a client mistake to report, not to drop silently.
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: true, verbose: true, strict: false });
  addFormats.default(ajv);
  return ajv;
}

const bodyAjv = makeAjv(false);
const urlAjv = makeAjv(true);

/**
 * Bodies are JSON and must carry the right types ("5" is not a number);
 * query strings and path params are text and are coerced to the schema's types.
 */
const DECIMAL_INTEGER = /^-?\d+$/;

/** Names of the integer properties of a query or params schema. */
function integerFields(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  return Object.entries(properties).filter(([, property]) => property.type === 'integer').map(([name]) => name);
}

/**
 * Bodies are JSON and must carry the right types ("5" is not a number);
 * query strings and path params are text and are coerced to the schema's
 * types, but an integer must be written as plain decimal digits (no "0x10",
 * "1e1" or blanks, which Number() would accept).
 */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  if (httpPart === 'body') return bodyAjv.compile(schema as object);
  const validate = urlAjv.compile(schema as object);
  const integers = integerFields(schema);
  if (integers.length === 0) return validate;
  const strict = (data: unknown) => {
    const values = (data ?? {}) as Record<string, unknown>;
    const malformed = integers.filter((name) => typeof values[name] === 'string' && !DECIMAL_INTEGER.test(values[name] as string));
    if (malformed.length > 0) {
      strict.errors = malformed.map(
        (name): ErrorObject => ({ instancePath: `/${name}`, schemaPath: '#/type', keyword: 'type', params: { type: 'integer' }, message: 'must be integer' }),
      );
      return false;
    }
    const valid = validate(data);
    strict.errors = validate.errors ?? null;
    return valid;
  };
  strict.errors = null as ErrorObject[] | null;
  return strict;
};

const PART_NAMES: Record<string, string> = { querystring: 'query', body: 'body', params: 'params', headers: 'headers' };

export interface FieldError {
  field: string;
  message: string;
}

function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

function describe(error: ErrorObject): { extra?: string; message: string } {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { extra: String(params.missingProperty), message: 'is required' };
    case 'additionalProperties':
      return { extra: String(params.additionalProperty), message: 'is not a known field' };
    case 'propertyNames':
      return { extra: String(params.propertyName), message: 'is not a valid name' };
    case 'pattern': {
      // Schemas may carry a readable rule in `x-message`; a bare regex helps nobody.
      const readable = (error.parentSchema as Record<string, unknown> | undefined)?.['x-message'];
      return { message: typeof readable === 'string' ? readable : (error.message ?? 'is invalid') };
    }
    case 'enum':
      return { message: `must be one of: ${(params.allowedValues as unknown[]).join(', ')}` };
    default:
      return { message: error.message ?? 'is invalid' };
  }
}

/** Turns ajv's errors into `{field, message}` pairs naming the field as the client sent it. */
export function fieldErrors(errors: ErrorObject[], context: string | undefined): FieldError[] {
  const part = PART_NAMES[context ?? 'body'] ?? context ?? 'body';
  const seen = new Set<string>();
  const result: FieldError[] = [];
  for (const error of errors) {
    // propertyNames reports the inner failure too; the outer one names the property.
    if (error.propertyName !== undefined && error.keyword !== 'propertyNames') continue;
    const { extra, message } = describe(error);
    const path = error.instancePath.split('/').slice(1).map(unescapePointer);
    if (extra !== undefined) path.push(extra);
    const field = [part, ...path].join('.');
    const key = `${field}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push({ field, message });
  }
  return result;
}
