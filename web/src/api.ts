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

/**
 * Reads one of Kai's SSE streams (logs?follow=true, stats?stream=true) with fetch, not
 * EventSource, so a refusal (409 "not running", 404, 401) arrives as the API's ApiError
 * instead of an opaque retry loop. Resolves when the stream ends (`end` event or close);
 * aborting `signal` stops it quietly.
 */
export async function streamSse(path: string, onEvent: (event: string, data: unknown) => void, signal: AbortSignal): Promise<void> {
  let response: Response;
  try {
    response = await fetch(path, { headers: { accept: 'text/event-stream' }, credentials: 'same-origin', signal });
  } catch (error) {
    if (signal.aborted) return;
    throw new ApiError(0, 'NETWORK_ERROR', `Kai did not answer (${(error as Error).message}); check that it is running`);
  }
  if (!response.ok || !response.body || !(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    let error: ErrorBody | undefined;
    try {
      error = ((await response.json()) as { error?: ErrorBody }).error;
    } catch {
      error = undefined;
    }
    if (response.status === 401) onUnauthorized();
    throw new ApiError(response.status, error?.code ?? 'INTERNAL_ERROR', error?.message ?? `Kai answered HTTP ${response.status} ${response.statusText}`, (error?.details as Record<string, unknown> | undefined) ?? {});
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let boundary: number;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length === 0) continue; // comments (heartbeats) and retry hints
        if (event === 'end') return;
        try {
          onEvent(event, JSON.parse(data.join('\n')));
        } catch {
          // not JSON: not one of Kai's events
        }
      }
    }
  } catch (error) {
    if (signal.aborted) return;
    throw new ApiError(0, 'NETWORK_ERROR', `The stream broke off (${(error as Error).message})`);
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}
