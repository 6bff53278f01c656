/**
 * Kai's error vocabulary. Domain code throws KaiError with one of these codes;
 * the HTTP layer turns it into the error envelope with the status below.
 */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  PERMISSION_DENIED: 403,
  CONTAINER_NOT_FOUND: 404,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  DOCKER_ERROR: 502,
  NETWORK_ERROR: 502,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export type ErrorDetails = Record<string, unknown>;

export class KaiError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, statusCode?: number) {
    super(message);
    this.name = 'KaiError';
    this.code = code;
    this.statusCode = statusCode ?? ERROR_STATUS[code];
    this.details = details;
  }
}

/** One field that failed validation, named the way the client sent it (`body.hostPath`). */
export function validationError(field: string, message: string, extra: ErrorDetails = {}): KaiError {
  return new KaiError('VALIDATION_ERROR', `${field}: ${message}`, { fields: [{ field, message }], ...extra });
}

/** The engine cannot be reached at all: 503, so clients know to retry later. */
export function engineUnavailable(message: string): KaiError {
  return new KaiError('DOCKER_ERROR', message, { engine: 'unreachable' }, 503);
}
