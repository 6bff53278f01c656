import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  timestamp: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  verified: boolean;
}

/**
 * A webhook receiver on 127.0.0.1 that checks every request's signature with
 * the standardwebhooks library. `respond` decides the status (and headers)
 * of each answer; it can be switched off (connection refused) and on again
 * on the same port.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  readonly unverified: string[] = [];
  respond: (received: Received) => { status: number; headers?: Record<string, string> } = () => ({ status: 204 });
  secret = '';
  port = 0;
  private server: http.Server | undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(): Promise<void> {
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const payload = Buffer.concat(chunks).toString('utf8');
        const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
        let verified = false;
        let body: unknown = payload;
        try {
          body = new Webhook(this.secret).verify(payload, headers);
          verified = true;
        } catch (error) {
          this.unverified.push(`${headers['webhook-id']}: ${(error as Error).message}`);
        }
        const received: Received = { id: headers['webhook-id'] ?? '', timestamp: headers['webhook-timestamp'] ?? '', body, verified };
        this.received.push(received);
        const answer = verified ? this.respond(received) : { status: 400 };
        response.writeHead(answer.status, answer.headers ?? {});
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  ofType(type: string): Received[] {
    return this.received.filter((r) => r.verified && r.body?.type === type);
  }
}
