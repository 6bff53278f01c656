import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/** A client that lets this much pile up unread is cut off (it can resume with Last-Event-ID). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** One open text/event-stream response. */
export class SseStream {
  private closedFlag = false;
  private readonly closeHandlers: Array<() => void> = [];
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly raw: ServerResponse,
    heartbeatMs: number,
  ) {
    this.heartbeat = setInterval(() => this.comment('heartbeat'), heartbeatMs);
    this.heartbeat.unref();
    raw.on('close', () => this.finish());
    raw.on('error', () => this.finish());
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** One event; `data` is sent as one line of JSON. Returns false once the stream is closed. */
  send(event: string, data: unknown, id?: string): boolean {
    return this.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** A comment line: ignored by clients, keeps proxies and the connection from idling out. */
  comment(text: string): boolean {
    return this.write(`: ${text.replace(/\n/g, ' ')}\n\n`);
  }

  /** Resolves once the client has taken what was written (or has gone). */
  async drained(): Promise<void> {
    if (this.closedFlag || !this.raw.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.raw.off('drain', done);
        resolve();
      };
      this.raw.once('drain', done);
      this.onClose(done);
    });
  }

  onClose(handler: () => void): void {
    if (this.closedFlag) handler();
    else this.closeHandlers.push(handler);
  }

  close(): void {
    if (this.closedFlag) return;
    this.raw.end();
    this.finish();
  }

  private write(text: string): boolean {
    if (this.closedFlag) return false;
    if (this.raw.writableLength > MAX_BUFFERED_BYTES) {
      // Too slow to keep up: better to drop it than to hold memory for it.
      this.raw.destroy();
      this.finish();
      return false;
    }
    this.raw.write(text);
    return true;
  }

  private finish(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    clearInterval(this.heartbeat);
    for (const handler of this.closeHandlers.splice(0)) handler();
  }
}

/**
 * Opens Server-Sent Events responses on hijacked replies (so no serializer,
 * compression or onSend hook touches them) and ends them all when Kai closes.
 */
export class SseConnections {
  private readonly open = new Set<SseStream>();

  constructor(private readonly heartbeatMs: number) {}

  get count(): number {
    return this.open.size;
  }

  start(reply: FastifyReply): SseStream {
    reply.hijack();
    const raw = reply.raw;
    // Headers already set on the raw response (security headers) are kept; these are added.
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies: pass each event on at once.
      'x-accel-buffering': 'no',
    });
    raw.flushHeaders();
    const stream = new SseStream(raw, this.heartbeatMs);
    this.open.add(stream);
    stream.onClose(() => this.open.delete(stream));
    // Tell EventSource clients how long to wait before reconnecting, and flush the first bytes.
    raw.write('retry: 2000\n\n');
    return stream;
  }

  closeAll(): void {
    for (const stream of [...this.open]) stream.close();
  }
}
