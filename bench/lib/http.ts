import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** Where a request goes: Kai over loopback TCP, or the engine over its unix socket. */
export type Target = { kind: 'tcp'; host: string; port: number } | { kind: 'socket'; socketPath: string };

export interface TimedResponse {
  status: number;
  body: string;
  /** From just before the request is written to the last byte of the body. */
  ms: number;
}

/**
 * One HTTP/1.1 client per target, with keep-alive and a single socket, so
 * both sides of a comparison pay the same client costs (node:http, no parsing
 * inside the timed window, a warm connection).
 */
export class HttpClient {
  private readonly agent: http.Agent;
  /** Sent with every request, e.g. Kai's `authorization: Bearer …` once logged in. */
  readonly defaultHeaders: Record<string, string> = {};

  constructor(private readonly target: Target) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  request(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<TimedResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = {
      host: this.target.kind === 'tcp' ? `${this.target.host}:${this.target.port}` : 'docker',
      ...this.defaultHeaders,
    };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    const where =
      this.target.kind === 'tcp' ? { host: this.target.host, port: this.target.port } : { socketPath: this.target.socketPath };
    return new Promise<TimedResponse>((resolve, reject) => {
      const started = performance.now();
      const req = http.request({ ...where, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const ms = performance.now() - started;
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms });
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Parses a JSON body, naming the request when it is not JSON. */
export function json<T>(response: TimedResponse, what: string): T {
  try {
    return JSON.parse(response.body) as T;
  } catch {
    throw new Error(`${what}: answer is not JSON (HTTP ${response.status}): ${response.body.slice(0, 300)}`);
  }
}

/** Throws unless the status is the expected one, with the start of the body for diagnosis. */
export function expectStatus(response: TimedResponse, expected: number, what: string): void {
  if (response.status !== expected) {
    throw new Error(`${what}: expected HTTP ${expected}, got ${response.status}: ${response.body.slice(0, 500)}`);
  }
}
