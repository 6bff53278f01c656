import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { TEST_IMAGE } from './kai.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface KaiProcessOptions {
  dataDir: string;
  hostRoot: string;
  instance: string;
  network: string;
  adminPassword: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

export interface RunningKai {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last output of the process, for failure messages. */
  output: () => string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Kai as a real child process (`node --import tsx src/main.ts`), for tests
 * that kill it: isolated like startKai(), answering /api/health when this
 * resolves. A port taken between probing and binding is retried on a new one.
 */
export async function spawnKai(options: KaiProcessOptions): Promise<RunningKai> {
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let lastOutput = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      KAI_DATA_DIR: options.dataDir,
      KAI_HOST_ROOT: options.hostRoot,
      KAI_INSTANCE: options.instance,
      DOCKER_NETWORK: options.network,
      IMAGE_NAME: TEST_IMAGE,
      KAI_PULL_POLICY: 'never',
      KAI_LOG_LEVEL: 'warn',
      KAI_ADMIN_USERNAME: 'admin',
      KAI_ADMIN_PASSWORD: options.adminPassword,
      ...options.env,
    };
    delete env.NODE_TEST_CONTEXT; // the child is a server, not a test file
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-16_384);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let gone = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => {
        gone = true;
        resolve({ code, signal });
      }),
    );
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + timeoutMs;
    while (!gone && Date.now() < deadline) {
      try {
        await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
        return { child, url, exited, output: () => output };
      } catch {
        await sleep(100);
      }
    }
    lastOutput = output;
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`Kai did not answer /api/health within ${timeoutMs} ms:\n${output}`);
    }
    if (!/EADDRINUSE/.test(output)) break;
  }
  throw new Error(`Kai exited at start:\n${lastOutput}`);
}
