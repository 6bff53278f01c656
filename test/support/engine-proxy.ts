import { rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { uniqueId } from './kai.js';

export type ProxyMode = 'down' | 'hang' | 'up';

/**
 * A unix socket standing in for DOCKER_HOST that the test can switch between
 * an engine that is gone (nothing listening), one that accepts connections
 * and never answers, and the real engine behind it.
 */
export class EngineProxy {
  readonly socketPath = path.join(tmpdir(), `kai-engine-${uniqueId()}.sock`);
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private mode: ProxyMode = 'down';

  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  async set(mode: ProxyMode): Promise<void> {
    this.mode = mode;
    if (mode === 'down') {
      await this.stop();
      return;
    }
    if (this.server) return;
    rmSync(this.socketPath, { force: true });
    this.server = net.createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => undefined);
      if (this.mode === 'hang') return; // accepted, never answered
      const upstream = net.connect('/var/run/docker.sock');
      this.sockets.add(upstream);
      upstream.on('close', () => this.sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.socketPath, resolve));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.socketPath, { force: true });
  }
}
