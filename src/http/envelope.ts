import { Type, type TSchema } from '@sinclair/typebox';
import { StringEnum } from './schema-helpers.js';
import { ERROR_CODES, type ErrorCode, type ErrorDetails } from '../errors.js';

/** The reference's success envelope. */
export function ok<T>(data: T, message: string) {
  return { success: true as const, data, message, timestamp: new Date().toISOString() };
}

/** The reference's error envelope. */
export function failure(code: ErrorCode, message: string, details: ErrorDetails = {}) {
  return { success: false as const, error: { code, message, details }, timestamp: new Date().toISOString() };
}

const Timestamp = Type.String({ format: 'date-time', description: 'ISO-8601' });

export const ErrorEnvelope = Type.Object(
  {
    success: Type.Literal(false),
    error: Type.Object({
      code: StringEnum(ERROR_CODES),
      message: Type.String(),
      details: Type.Object({}, { additionalProperties: true }),
    }),
    timestamp: Timestamp,
  },
  { description: 'Error envelope' },
);

export function Envelope<T extends TSchema>(data: T) {
  return Type.Object({ success: Type.Literal(true), data, message: Type.String(), timestamp: Timestamp });
}

/**
 * The `response` part of a route schema: the success envelope under its
 * status, and the error envelope for every 4xx and 5xx.
 */
export function responses<T extends TSchema, S extends 200 | 201>(status: S, data: T) {
  return { [status]: Envelope(data), '4xx': ErrorEnvelope, '5xx': ErrorEnvelope } as { [K in S]: ReturnType<typeof Envelope<T>> } & {
    '4xx': typeof ErrorEnvelope;
    '5xx': typeof ErrorEnvelope;
  };
}
