import { WebSocket, type ClientOptions, type RawData } from 'ws';

/** A WebSocket client that records what it receives, for assertions. */
export class RecordingSocket {
  readonly socket: WebSocket;
  readonly texts: string[] = [];
  private output = Buffer.alloc(0);
  closed: { code: number; reason: string } | undefined;
  private readonly opened: Promise<void>;

  constructor(url: string, protocols: string[] = [], options: ClientOptions = {}) {
    this.socket = new WebSocket(url, protocols, options);
    this.socket.on('message', (data: RawData, isBinary: boolean) => {
      const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      if (isBinary) this.output = Buffer.concat([this.output, buffer]);
      else this.texts.push(buffer.toString());
    });
    this.socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
      this.socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    });
  }

  open(): Promise<void> {
    return this.opened;
  }

  get binary(): Buffer {
    return this.output;
  }

  text(): string {
    return this.output.toString('latin1');
  }

  /** Waits (bounded) until `check` holds. */
  async until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(this.text().slice(-500))} texts: ${JSON.stringify(this.texts)} closed: ${JSON.stringify(this.closed)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** The answer to an upgrade that was refused: its HTTP status. */
export function refusedStatus(url: string, protocols: string[], options: ClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, options);
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      socket.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    socket.once('error', () => undefined);
  });
}

export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
