/**
 * WebSocket clients for the shell benchmarks: ttyd's protocol (through Kai's
 * proxy or straight to the sandbox's published port), Kai's built-in terminal,
 * and the engine's own TTY exec as the floor under the built-in terminal.
 */
import { randomInt } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { DOCKER_SOCKET } from './engine.js';

const asBuffer = (data: RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);

/**
 * Opens a WebSocket, or rejects with the HTTP status of a refused upgrade.
 * `onMessage` is attached before the handshake ends: a frame that came in the
 * same packet as the 101 answer is delivered before `open` resolves.
 */
function connect(url: string, protocols: string[], options: ClientOptions, timeoutMs: number, onMessage: (data: RawData, isBinary: boolean) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // Both sides of every comparison use the same client settings: no compression, Node buffers.
    const socket = new WebSocket(url, protocols, { perMessageDeflate: false, handshakeTimeout: timeoutMs, ...options });
    socket.binaryType = 'nodebuffer';
    socket.on('message', onMessage);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => reject(new Error(`${url}: upgrade refused with HTTP ${response.statusCode}: ${body.slice(0, 300)}`)));
    });
  });
}

/** A random end marker, and the shell arithmetic that prints it (so the typed command never contains it). */
function endMarker(): { typed: string; printed: Buffer } {
  const a = randomInt(1_000_000, 9_000_000);
  const b = randomInt(1_000_000, 9_000_000);
  return { typed: `echo KB-$((${a}+${b}))-END`, printed: Buffer.from(`KB-${a + b}-END`) };
}

/** The shell command that prints `bytes` bytes of one letter without newlines, then the marker. */
export function bulkCommand(bytes: number, letter: string): { command: string; marker: Buffer } {
  const marker = endMarker();
  return { command: `head -c ${bytes} /dev/zero | tr '\\0' ${letter}; ${marker.typed}`, marker: marker.printed };
}

/**
 * Finds a marker in a stream of payloads without copying them: a search in
 * each payload plus a small window across each boundary.
 */
class MarkerScanner {
  private tail = Buffer.alloc(0);

  constructor(private readonly marker: Buffer) {}

  push(payload: Buffer): boolean {
    if (payload.indexOf(this.marker) >= 0) return true;
    const keep = this.marker.length - 1;
    const across = Buffer.concat([this.tail, payload.subarray(0, keep)]);
    if (across.indexOf(this.marker) >= 0) return true;
    this.tail = Buffer.concat([this.tail, payload]).subarray(-keep);
    return false;
  }
}

export interface BulkResult {
  bytes: number;
  ms: number;
  frames: number;
  mibPerSecond: number;
  /** CPU time Kai used during the round (ms), when Kai was on the path. */
  kaiCpuMs?: number;
  /** CPU time Kai used during a round it was not on the path of (its background cost). */
  kaiCpuMsOffPath?: number;
  /** CPU time the bench process (the client) used during the round (ms). */
  clientCpuMs?: number;
}

const bulkResult = (bytes: number, ms: number, frames: number): BulkResult => ({ bytes, ms, frames, mibPerSecond: bytes / 2 ** 20 / (ms / 1000) });

/** How a shell client takes part in a timed bulk round: who hears the output, how a command is sent, what to await after the marker. */
interface BulkTarget {
  label: string;
  listen(listener: ((payload: Buffer) => void) | undefined): void;
  send(command: string): void;
  /** Lets what follows the marker (the prompt) arrive outside the timed window. */
  afterMarker(): Promise<void>;
}

/** Runs `bytes` of output in the shell and times it until the end marker arrives. */
function timeBulk(target: BulkTarget, bytes: number, letter: string, timeoutMs: number): Promise<BulkResult> {
  const { command, marker } = bulkCommand(bytes, letter);
  const scanner = new MarkerScanner(marker);
  return new Promise((resolve, reject) => {
    let received = 0;
    let frames = 0;
    const timer = setTimeout(() => {
      target.listen(undefined);
      reject(new Error(`${target.label}: ${bytes} bytes not through within ${timeoutMs} ms (${received} received)`));
    }, timeoutMs);
    const started = performance.now();
    target.listen((payload) => {
      received += payload.length;
      frames += 1;
      if (!scanner.push(payload)) return;
      const ms = performance.now() - started;
      clearTimeout(timer);
      target.listen(undefined);
      void target.afterMarker().then(() => resolve(bulkResult(received, ms, frames)), reject);
    });
    target.send(command);
  });
}

/**
 * One ttyd session. ttyd's protocol: the first message is JSON
 * {AuthToken, columns, rows}; then every frame's first byte is its type.
 * Client → ttyd '0' input, '1' resize, '2' pause, '3' resume; ttyd → client
 * '0' output, '1' title, '2' preferences. Flow control is up to the client
 * (pause/resume); this client reads as fast as it can and never pauses.
 */
export class TtydClient {
  private listener: ((payload: Buffer) => void) | undefined;
  private socketOrUndefined: WebSocket | undefined;

  private constructor() {}

  get socket(): WebSocket {
    if (!this.socketOrUndefined) throw new Error('ttyd: not connected');
    return this.socketOrUndefined;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const frame = asBuffer(data);
    if (!isBinary || frame[0] !== 0x30) return; // only output frames
    this.listener?.(frame.subarray(1));
  }

  static async open(url: string, options: ClientOptions, timeoutMs = 15_000): Promise<TtydClient> {
    const client = new TtydClient();
    const socket = await connect(url, ['tty'], options, timeoutMs, (data, isBinary) => client.onMessage(data, isBinary));
    client.socketOrUndefined = socket;
    if (socket.protocol !== 'tty') {
      socket.terminate();
      throw new Error(`${url}: the server chose subprotocol "${socket.protocol}", not tty`);
    }
    socket.send(JSON.stringify({ AuthToken: '', columns: 200, rows: 50 }));
    await client.quiet(timeoutMs, 'the first prompt');
    return client;
  }

  private type(text: string): void {
    this.socket.send(Buffer.concat([Buffer.from('0'), Buffer.from(text)]));
  }

  /** Waits until no output came for `quietMs`; with `needOutput`, only once some output came first. */
  private quiet(timeoutMs: number, what: string, quietMs = 150, needOutput = true): Promise<void> {
    return new Promise((resolve, reject) => {
      let settle: NodeJS.Timeout | undefined;
      const deadline = setTimeout(() => {
        this.listener = undefined;
        if (settle) clearTimeout(settle);
        reject(new Error(`ttyd: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(deadline);
        this.listener = undefined;
        resolve();
      };
      if (!needOutput) settle = setTimeout(done, quietMs);
      this.listener = () => {
        if (settle) clearTimeout(settle);
        settle = setTimeout(done, quietMs);
      };
    });
  }

  /**
   * Replaces the shell by `cat` on a raw, non-echoing TTY: every typed byte
   * comes straight back as output, once, with no line editing in between.
   */
  async becomeEcho(timeoutMs = 10_000): Promise<void> {
    this.type('stty raw -echo; exec cat\r');
    await this.quiet(timeoutMs, 'answer to stty/cat');
  }

  /** Types one character and resolves with the milliseconds until it comes back. */
  echo(char: string, timeoutMs = 5_000): Promise<number> {
    const code = char.charCodeAt(0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listener = undefined;
        reject(new Error(`ttyd: no echo of "${char}" within ${timeoutMs} ms`));
      }, timeoutMs);
      let started = 0;
      this.listener = (payload) => {
        if (payload.indexOf(code) < 0) return;
        const ms = performance.now() - started;
        clearTimeout(timer);
        this.listener = undefined;
        resolve(ms);
      };
      started = performance.now();
      this.type(char);
    });
  }

  /** Runs `bytes` of output in the shell and times it until the end marker arrives. */
  bulk(bytes: number, timeoutMs: number): Promise<BulkResult> {
    return timeBulk(
      {
        label: 'ttyd',
        listen: (listener) => (this.listener = listener),
        send: (command) => this.type(`${command}\r`),
        afterMarker: () => this.quiet(timeoutMs, 'prompt after the bulk output', 100, false),
      },
      bytes,
      'x',
      timeoutMs,
    );
  }


  close(): void {
    this.socketOrUndefined?.terminate();
  }
}

/** One viewer of Kai's built-in terminal: JSON text frames for control, binary frames for output. */
export class TerminalClient {
  private listener: ((payload: Buffer) => void) | undefined;
  private outputBytes = 0;
  readonly texts: string[] = [];
  private socketOrUndefined: WebSocket | undefined;
  private sessionId = '';
  private onText: (() => void) | undefined;

  private constructor() {}

  get socket(): WebSocket {
    if (!this.socketOrUndefined) throw new Error('terminal: not connected');
    return this.socketOrUndefined;
  }

  get session(): string {
    return this.sessionId;
  }

  get received(): number {
    return this.outputBytes;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const frame = asBuffer(data);
    if (!isBinary) {
      this.texts.push(frame.toString('utf8'));
      this.onText?.();
      return;
    }
    this.outputBytes += frame.length;
    this.listener?.(frame);
  }

  /** Opens a new session; resolves once Kai has sent the session message (the shell is running). */
  static async open(url: string, options: ClientOptions, timeoutMs = 30_000): Promise<TerminalClient> {
    const client = new TerminalClient();
    const socket = await connect(url, [], options, timeoutMs, (data, isBinary) => client.onMessage(data, isBinary));
    client.socketOrUndefined = socket;
    if (client.texts.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.terminate();
          reject(new Error(`terminal ${url}: no session message within ${timeoutMs} ms`));
        }, timeoutMs);
        client.onText = () => {
          clearTimeout(timer);
          resolve();
        };
        socket.once('close', (code, reason) => {
          clearTimeout(timer);
          reject(new Error(`terminal ${url}: closed (${code} ${reason.toString()}) before the session message`));
        });
      });
      client.onText = undefined;
    }
    const first = client.texts[0] as string;
    const message = JSON.parse(first) as { type?: string; id?: string };
    if (message.type !== 'session' || typeof message.id !== 'string') {
      socket.terminate();
      throw new Error(`terminal ${url}: expected the session message first, got ${first.slice(0, 200)}`);
    }
    client.sessionId = message.id;
    return client;
  }

  /** Waits for the first output (the prompt), or gives up quietly after `timeoutMs`. */
  async firstOutput(timeoutMs: number): Promise<boolean> {
    if (this.outputBytes > 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.listener = undefined;
        resolve(false);
      }, timeoutMs);
      this.listener = () => {
        clearTimeout(timer);
        this.listener = undefined;
        resolve(true);
      };
    });
  }

  /** Waits until no output came for `quietMs` (bounded by `timeoutMs`). */
  settle(quietMs: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const done = () => {
        clearTimeout(deadline);
        clearTimeout(timer);
        this.listener = undefined;
        resolve();
      };
      const deadline = setTimeout(done, timeoutMs);
      timer = setTimeout(done, quietMs);
      this.listener = () => {
        clearTimeout(timer);
        timer = setTimeout(done, quietMs);
      };
    });
  }

  bulk(bytes: number, timeoutMs: number): Promise<BulkResult> {
    return timeBulk(
      {
        label: 'terminal',
        listen: (listener) => (this.listener = listener),
        send: (command) => this.socket.send(Buffer.from(`${command}\n`)),
        afterMarker: () => this.settle(100, 5_000),
      },
      bytes,
      'y',
      timeoutMs,
    );
  }


  close(): void {
    this.socketOrUndefined?.terminate();
  }
}

/**
 * The engine's own floor for the built-in terminal: the same output from an
 * exec with a TTY, read straight from the engine's unix socket (what Kai's
 * terminal rests on, without Kai, WebSocket or an interactive shell).
 */
export async function engineTtyExecBulk(containerId: string, bytes: number, timeoutMs: number): Promise<BulkResult> {
  const { command, marker } = bulkCommand(bytes, 'y');
  const post = (path: string, body: unknown, stream: boolean) =>
    new Promise<{ status: number; body: Buffer; bytes: number; frames: number; sawMarker: boolean; firstAt: number; endedAt: number }>((resolve, reject) => {
      const payload = Buffer.from(JSON.stringify(body));
      const scanner = new MarkerScanner(marker);
      let sawMarker = false;
      let firstAt = 0;
      let endedAt = 0;
      const request = http.request(
        {
          socketPath: DOCKER_SOCKET,
          method: 'POST',
          path,
          agent: false,
          headers: { host: 'docker', 'content-type': 'application/json', 'content-length': payload.length },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let count = 0;
          let frames = 0;
          response.on('data', (chunk: Buffer) => {
            if (firstAt === 0) firstAt = performance.now();
            count += chunk.length;
            frames += 1;
            if (!stream) chunks.push(chunk);
            else if (!sawMarker && scanner.push(chunk)) {
              sawMarker = true;
              endedAt = performance.now();
            }
          });
          response.on('error', reject);
          const finish = () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks), bytes: count, frames, sawMarker, firstAt, endedAt: endedAt || performance.now() });
          response.on('end', finish);
          // The engine ends an exec's raw stream by closing the connection.
          response.on('close', finish);
        },
      );
      request.setTimeout(timeoutMs, () => request.destroy(new Error(`engine ${path}: no answer within ${timeoutMs} ms`)));
      request.on('error', reject);
      request.end(payload);
    });
  const created = await post(`/containers/${containerId}/exec`, { Cmd: ['sh', '-c', command], Tty: true, AttachStdout: true, AttachStderr: true }, false);
  if (created.status !== 201) throw new Error(`engine exec create: HTTP ${created.status}: ${created.body.toString().slice(0, 300)}`);
  const { Id } = JSON.parse(created.body.toString()) as { Id: string };
  const output = await post(`/exec/${Id}/start`, { Detach: false, Tty: true }, true);
  if (output.status !== 200 && output.status !== 101) throw new Error(`engine exec start: HTTP ${output.status}`);
  if (!output.sawMarker) throw new Error(`engine exec: the output ended without its end marker (${output.bytes} bytes)`);
  // Timed from the first output byte: the exec's own start-up (runc exec) is not streaming, and Kai's shell is already running.
  return bulkResult(output.bytes, output.endedAt - output.firstAt, output.frames);
}
