import type { Socket } from 'node:net';
import { failure } from './envelope.js';

const REASONS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [400, 'Bad Request', 'headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request was not received in time'],
};

/**
 * Requests the HTTP parser itself rejects (bad framing, lying
 * Content-Length, oversized headers) never reach Fastify's error handler;
 * they still get the envelope, then the connection is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, statusText, message] = REASONS[error.code ?? ''] ?? [400, 'Bad Request', 'is malformed HTTP'];
  const body = JSON.stringify(failure('VALIDATION_ERROR', `Invalid request: ${message}`, { fields: [{ field: 'request', message }] }));
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
