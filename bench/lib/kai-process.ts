import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient } from './http.js';

export type KaiMode = 'dist' | 'tsx';

/** USER_HZ: Linux reports process CPU times in 1/100 s on every common architecture. */
const CLOCK_TICKS = 100;

/** A port the kernel just handed out on loopback; free again once the probe server closes. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Runs a command without a shell; never rejects for a non-zero exit, only reports it. */
export function run(command: string, args: string[], options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs)
      : undefined;
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started, timedOut });
    });
  });
}

/** How `npm start` launches Kai, read from package.json "scripts.start". */
export interface StartCommand {
  /** The script as written in package.json. */
  text: string;
  /** `VAR=value` words before `node`, if any. */
  env: Record<string, string>;
  /** Node's own flags (everything between `node` and the script). */
  nodeFlags: string[];
  /** The entry point, relative to the repository, e.g. dist/main.js. */
  script: string;
  scriptArgs: string[];
}

/**
 * Reads "scripts.start" so the bench starts Kai exactly as `npm start` does,
 * node flags included. Only the plain form `[VAR=value ...] node [flags] script [args]`
 * is understood; anything needing a shell (pipes, `&&`, `$VAR`) stops the bench.
 */
export function readStartCommand(repo: string): StartCommand {
  const manifest = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const text = manifest.scripts?.start;
  if (typeof text !== 'string' || text.trim() === '') throw new Error('package.json has no "scripts.start"; the bench starts Kai the way npm start does');
  if (/[|&;<>()$`\\]/.test(text)) throw new Error(`package.json "scripts.start" is "${text}": the bench understands only "[VAR=value ...] node [flags] script", no shell syntax`);
  const words: string[] = [];
  for (const match of text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(match[1] ?? match[2] ?? match[3] ?? '');
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] ?? '')) {
    const word = words.shift() as string;
    const equals = word.indexOf('=');
    env[word.slice(0, equals)] = word.slice(equals + 1);
  }
  if (words.shift() !== 'node') throw new Error(`package.json "scripts.start" is "${text}": expected it to run node`);
  const nodeFlags: string[] = [];
  // Flags that take their value as the next word.
  const withValue = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--env-file', '--conditions', '-C', '--title', '--inspect-port']);
  while (words.length > 0 && (words[0] ?? '').startsWith('-')) {
    const flag = words.shift() as string;
    nodeFlags.push(flag);
    if (withValue.has(flag) && words.length > 0) nodeFlags.push(words.shift() as string);
  }
  const script = words.shift();
  if (!script) throw new Error(`package.json "scripts.start" is "${text}": no script after the node flags`);
  return { text, env, nodeFlags, script, scriptArgs: words };
}

/**
 * Builds dist/ with `npm run build` and says how Kai should be started:
 * with the `npm start` command when the build succeeded (realistic figures), else
 * the same node flags with src/ through tsx.
 */
export async function prepareKai(repo: string, start: StartCommand, log: (line: string) => void): Promise<{ mode: KaiMode; buildMs: number | null; note: string }> {
  const entry = path.join(repo, start.script);
  if (process.env.KAI_BENCH_MODE === 'tsx') return { mode: 'tsx', buildMs: null, note: 'KAI_BENCH_MODE=tsx: src/ through tsx, no build' };
  if (process.env.KAI_BENCH_BUILD === '0') {
    const mode: KaiMode = existsSync(entry) ? 'dist' : 'tsx';
    return { mode, buildMs: null, note: 'KAI_BENCH_BUILD=0: build skipped' };
  }
  log('building dist/ (npm run build)...');
  const build = await run('npm', ['run', 'build', '--silent'], { cwd: repo, timeoutMs: 180_000 });
  if (build.code === 0 && existsSync(entry)) {
    return { mode: 'dist', buildMs: build.ms, note: 'built with npm run build' };
  }
  const why = build.timedOut ? 'timed out' : `exit ${build.code}`;
  log(`build failed (${why}); falling back to tsx. ${(build.stdout + build.stderr).trim().split('\n').slice(0, 10).join('\n')}`);
  return { mode: 'tsx', buildMs: null, note: `npm run build failed (${why}); ran src/ through tsx` };
}

/** The node arguments for Kai: `npm start`'s flags, the bench's extra flags, then the entry point. */
export function kaiArgs(start: StartCommand, mode: KaiMode, extraFlags: string[]): string[] {
  const entry = mode === 'dist' ? [start.script, ...start.scriptArgs] : ['--import', 'tsx', 'src/main.ts', ...start.scriptArgs];
  return [...start.nodeFlags, ...extraFlags, ...entry];
}

/** Kai as a separate process with its own environment. */
export class KaiProcess {
  private readonly child: ChildProcess;
  private output = '';
  private exited: Promise<void>;
  exitCode: number | null = null;
  readonly client: HttpClient;

  constructor(
    repo: string,
    /** Arguments to this same node binary (see kaiArgs). */
    readonly args: string[],
    readonly port: number,
    env: Record<string, string>,
  ) {
    // Only what Kai needs: no KAI_* or DOCKER_* from the caller's shell leaks in.
    const base: Record<string, string> = {};
    for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR']) {
      const value = process.env[key];
      if (value !== undefined) base[key] = value;
    }
    this.child = spawn(process.execPath, this.args, { cwd: repo, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-20_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        this.exitCode = code ?? -1;
        resolve();
      });
    });
    this.client = new HttpClient({ kind: 'tcp', host: '127.0.0.1', port });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('Kai did not start (no pid)');
    return this.child.pid;
  }

  /** The last lines Kai wrote (warn level and above), for failure messages. */
  get logTail(): string {
    return this.output.trim().split('\n').slice(-20).join('\n');
  }

  get running(): boolean {
    return this.exitCode === null;
  }

  async waitHealthy(timeoutMs: number): Promise<number> {
    const started = performance.now();
    let last = 'no answer yet';
    while (performance.now() - started < timeoutMs) {
      if (!this.running) throw new Error(`Kai exited with code ${this.exitCode} before it was healthy:\n${this.logTail}`);
      try {
        const response = await this.client.request('GET', '/api/health', undefined, 2_000);
        if (response.status === 200) return performance.now() - started;
        last = `HTTP ${response.status}: ${response.body.slice(0, 200)}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(100);
    }
    throw new Error(`Kai was not healthy within ${timeoutMs} ms (${last}):\n${this.logTail}`);
  }

  /**
   * Logs in as the first admin (made from KAI_ADMIN_USERNAME/PASSWORD) and
   * sends the session token as a bearer token from then on, as a script would.
   * A Kai without the auth routes (404) is used without credentials.
   */
  async login(username: string, password: string): Promise<'bearer' | 'none'> {
    const response = await this.client.request('POST', '/api/auth/login', { username, password }, 30_000);
    if (response.status === 404) return 'none';
    if (response.status !== 200) throw new Error(`login as ${username}: HTTP ${response.status}: ${response.body.slice(0, 300)}`);
    const token = (JSON.parse(response.body) as { data?: { token?: unknown } }).data?.token;
    if (typeof token !== 'string' || token === '') throw new Error(`login as ${username}: no token in ${response.body.slice(0, 300)}`);
    this.client.defaultHeaders.authorization = `Bearer ${token}`;
    return 'bearer';
  }

  /** Resident and peak resident memory of the Kai process, from /proc/<pid>/status, in MiB. */
  memory(): { rssMiB: number; hwmMiB: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kib = (field: string): number => {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      if (!match?.[1]) throw new Error(`/proc/${this.pid}/status has no ${field}`);
      return Number(match[1]);
    };
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  }

  /** CPU time (user + system) the Kai process has used so far, in ms, from /proc/<pid>/stat (10 ms resolution). */
  cpuMs(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS;
  }

  /** SIGTERM (Kai closes cleanly), then SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    this.client.close();
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = sleep(graceMs).then(() => 'timeout' as const);
    if ((await Promise.race([this.exited.then(() => 'exited' as const), timer])) === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
