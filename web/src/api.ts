import type { ErrorBody } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** VALIDATION_ERROR's details.fields, keyed by field name without its "body." prefix. */
  fieldErrors(): Record<string, string> {
    const fields = (this.details.fields as { field: string; message: string }[] | undefined) ?? [];
    const out: Record<string, string> = {};
    for (const { field, message } of fields) out[field.replace(/^body\./, '')] ??= message;
    return out;
  }
}

/** The CSRF token lives in memory only; the session itself is Kai's HttpOnly cookie. */
let csrfToken: string | null = null;
export const setCsrfToken = (token: string | null) => {
  csrfToken = token;
};

type UnauthorizedListener = () => void;
let onUnauthorized: UnauthorizedListener = () => undefined;
export const setUnauthorizedHandler = (listener: UnauthorizedListener) => {
  onUnauthorized = listener;
};

export async function api<T>(method: string, path: string, body?: unknown, options: { quiet401?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, 'NETWORK_ERROR', `Kai did not answer (${(error as Error).message}); check that it is running`);
  }
  let parsed: { success?: boolean; data?: T; error?: ErrorBody } | undefined;
  try {
    parsed = (await response.json()) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  if (response.ok && parsed?.success) return parsed.data as T;
  const error = parsed?.error;
  const failure = new ApiError(
    response.status,
    error?.code ?? 'INTERNAL_ERROR',
    error?.message ?? `Kai answered HTTP ${response.status} ${response.statusText}`,
    (error?.details as Record<string, unknown> | undefined) ?? {},
  );
  if (response.status === 401 && !options.quiet401) onUnauthorized();
  throw failure;
}

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
