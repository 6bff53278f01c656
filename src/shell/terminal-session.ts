import type { WebSocket } from 'ws';
import type { TerminalProcess } from '../runtime/types.js';
import { RingBuffer } from './ring-buffer.js';

/** Close codes a terminal client may see; documented in docs/api.md. */
export const CLOSE = {
  closed: { code: 1000, reason: 'terminal session closed' },
  shellExited: { code: 4001, reason: 'the shell exited' },
  containerStopped: { code: 4002, reason: 'the container stopped' },
  expired: { code: 4003, reason: 'terminal session expired' },
  shutdown: { code: 1001, reason: 'Kai is shutting down' },
} as const;

export type CloseReason = (typeof CLOSE)[keyof typeof CLOSE];

/** Above this much unsent output for any viewer, Kai stops reading from the shell until it drains. */
const HIGH_WATER_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = 256 * 1024;
/** One frame carries at most this much; more waits for the next turn of the event loop. */
const MAX_FRAME_BYTES = 256 * 1024;

export interface SessionInfo {
  id: string;
  containerId: string;
  owner: string;
  createdAt: string;
  viewers: number;
  cols: number;
  rows: number;
}

/**
 * One shell in a container and the viewers attached to it. Output goes to
 * every viewer in batched binary frames and into a bounded replay buffer;
 * a viewer that reads slowly pauses the shell instead of growing Kai's memory.
 */
export class TerminalSession {
  readonly createdAt = new Date().toISOString();
  private readonly viewers = new Set<WebSocket>();
  private readonly replay: RingBuffer;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private paused = false;
  private ended = false;
  cols: number;
  rows: number;

  constructor(
    readonly id: string,
    readonly owner: string,
    private readonly process: TerminalProcess,
    options: { bufferBytes: number; cols: number; rows: number },
    private readonly onEnd: (session: TerminalSession, why: 'exited') => void,
  ) {
    this.replay = new RingBuffer(options.bufferBytes);
    this.cols = options.cols;
    this.rows = options.rows;
    process.stream.on('data', (chunk: Buffer) => this.output(chunk));
    const finished = () => {
      if (!this.ended) this.onEnd(this, 'exited');
    };
    process.stream.on('end', finished);
    process.stream.on('close', finished);
    process.stream.on('error', finished);
  }

  get containerId(): string {
    return this.process.containerId;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  info(): SessionInfo {
    return { id: this.id, containerId: this.containerId, owner: this.owner, createdAt: this.createdAt, viewers: this.viewers.size, cols: this.cols, rows: this.rows };
  }

  attach(viewer: WebSocket): void {
    const replay = this.replay.contents();
    viewer.send(JSON.stringify({ type: 'session', id: this.id, containerId: this.containerId, replayBytes: replay.length }));
    if (replay.length > 0) viewer.send(replay, { binary: true });
    this.viewers.add(viewer);
  }

  /** Returns how many viewers remain. */
  detach(viewer: WebSocket): number {
    this.viewers.delete(viewer);
    this.maybeResume();
    return this.viewers.size;
  }

  input(data: Buffer | string): void {
    if (!this.ended) this.process.stream.write(data);
  }

  resize(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
    void this.process.resize(cols, rows);
  }

  /** Ends the shell and everything it started, and tells each viewer why. */
  async end(why: CloseReason): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.flush();
    for (const viewer of this.viewers) {
      try {
        viewer.send(JSON.stringify({ type: 'exit', reason: why.reason, code: why.code }));
        viewer.close(why.code, why.reason);
      } catch {
        viewer.terminate();
      }
    }
    this.viewers.clear();
    await this.process.kill();
  }

  private output(chunk: Buffer): void {
    this.replay.write(chunk);
    if (this.viewers.size === 0) return; // kept for replay; nobody to send to
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= MAX_FRAME_BYTES) {
      this.flush();
    } else if (!this.flushScheduled) {
      // Everything the shell wrote during this turn of the event loop goes out as one frame.
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pendingBytes === 0) return;
    const frame = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    for (const viewer of this.viewers) {
      viewer.send(frame, { binary: true }, () => this.maybeResume());
      if (viewer.bufferedAmount > HIGH_WATER_BYTES) this.pause();
    }
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.process.stream.pause();
  }

  private maybeResume(): void {
    if (!this.paused) return;
    for (const viewer of this.viewers) if (viewer.bufferedAmount > LOW_WATER_BYTES) return;
    this.paused = false;
    this.process.stream.resume();
  }
}
