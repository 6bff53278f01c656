import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { KaiError } from '../errors.js';
import type { Runtime } from '../runtime/types.js';
import { CLOSE, TerminalSession, type CloseReason, type SessionInfo } from './terminal-session.js';

/** Sessions Kai keeps at once; beyond it a new terminal is refused rather than exhausting the host. */
const MAX_SESSIONS = 200;

export interface TerminalManagerOptions {
  graceSeconds: number;
  bufferBytes: number;
}

/**
 * Built-in terminal sessions: opened on demand, kept through dropped
 * connections for a grace period, shared by several viewers, and ended
 * (with every process they started) when closed, expired or when the
 * container stops.
 */
export class TerminalManager {
  private readonly sessions = new Map<string, TerminalSession>();
  private readonly expiry = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly runtime: Runtime,
    private readonly options: TerminalManagerOptions,
    private readonly logger: Logger,
  ) {}

  async open(containerRef: string, owner: string, size: { cols: number; rows: number }): Promise<TerminalSession> {
    if (this.sessions.size >= MAX_SESSIONS) {
      throw new KaiError('CONFLICT', `Kai already holds ${MAX_SESSIONS} terminal sessions; close some first`);
    }
    const id = randomUUID();
    const process = await this.runtime.openTerminal(containerRef, { sessionId: id, ...size });
    const session = new TerminalSession(id, owner, process, { bufferBytes: this.options.bufferBytes, ...size }, (ended) => {
      void this.finish(ended);
    });
    this.sessions.set(id, session);
    this.scheduleExpiry(session);
    this.logger.info({ session: id, container: process.containerId }, 'terminal opened');
    return session;
  }

  /** A session of this container, or 404. */
  find(sessionId: string, containerId: string): TerminalSession {
    const session = this.sessions.get(sessionId);
    if (!session || session.containerId !== containerId) {
      throw new KaiError('NOT_FOUND', `No terminal session "${sessionId}" for this container`, { session: sessionId });
    }
    return session;
  }

  list(containerId: string): SessionInfo[] {
    return [...this.sessions.values()].filter((s) => s.containerId === containerId).map((s) => s.info());
  }

  attach(session: TerminalSession, viewer: WebSocket): void {
    this.cancelExpiry(session.id);
    session.attach(viewer);
  }

  detach(session: TerminalSession, viewer: WebSocket): void {
    if (session.detach(viewer) === 0 && this.sessions.has(session.id)) this.scheduleExpiry(session);
  }

  async close(session: TerminalSession, why: CloseReason = CLOSE.closed): Promise<void> {
    this.sessions.delete(session.id);
    this.cancelExpiry(session.id);
    await session.end(why);
    this.logger.info({ session: session.id, reason: why.reason }, 'terminal closed');
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((session) => this.close(session, CLOSE.shutdown)));
  }

  /** The shell's stream ended: either the shell exited or the container stopped. */
  private async finish(session: TerminalSession): Promise<void> {
    if (!this.sessions.has(session.id)) return;
    // The shell dies a moment before the engine marks its container stopped: look twice before saying which.
    let running = false;
    for (let look = 0; look < 3; look++) {
      if (look > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      running = await this.runtime.status(session.containerId).then((status) => status === 'running', () => false);
      if (!running) break;
    }
    await this.close(session, running ? CLOSE.shellExited : CLOSE.containerStopped);
  }

  private scheduleExpiry(session: TerminalSession): void {
    this.cancelExpiry(session.id);
    const timer = setTimeout(() => void this.close(session, CLOSE.expired), this.options.graceSeconds * 1000);
    timer.unref();
    this.expiry.set(session.id, timer);
  }

  private cancelExpiry(id: string): void {
    const timer = this.expiry.get(id);
    if (timer) clearTimeout(timer);
    this.expiry.delete(id);
  }
}
