import { PassThrough, Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { LogLine, LogOptions, LogStream } from '../types.js';

/** A partial line longer than this is passed on as it is, so one endless line cannot grow memory. */
const MAX_LINE_CHARS = 64 * 1024;

/** Splits one output stream into lines and hands each to `emit`, in the order the bytes came. */
class LineSplitter {
  private pending = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly stream: LogLine['stream'],
    private readonly timestamps: boolean,
    private readonly emit: (line: LogLine) => void,
  ) {}

  write(chunk: Buffer): boolean {
    this.pending += this.decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      this.push(this.pending.slice(0, newline));
      this.pending = this.pending.slice(newline + 1);
    }
    if (this.pending.length > MAX_LINE_CHARS) {
      this.push(this.pending);
      this.pending = '';
    }
    return true;
  }

  flush(): void {
    this.pending += this.decoder.decode();
    if (this.pending) this.push(this.pending);
    this.pending = '';
  }

  private push(text: string): void {
    let line = text.endsWith('\r') ? text.slice(0, -1) : text;
    let timestamp: string | null = null;
    if (this.timestamps) {
      // The engine prefixes each line with an RFC 3339 timestamp and a space.
      const space = line.indexOf(' ');
      const candidate = space > 0 ? line.slice(0, space) : line;
      if (/^\d{4}-\d{2}-\d{2}T/.test(candidate)) {
        timestamp = candidate;
        line = space > 0 ? line.slice(space + 1) : '';
      }
    }
    this.emit({ stream: this.stream, line, timestamp });
  }
}

function logQuery(options: LogOptions): Record<string, unknown> {
  return {
    stdout: true,
    stderr: true,
    timestamps: options.timestamps,
    tail: options.tail === 'all' ? 'all' : String(options.tail),
    // The engine takes "seconds.nanoseconds".
    ...(options.since !== undefined ? { since: (options.since / 1000).toFixed(9) } : {}),
  };
}

/** Opens the engine's log stream with Kai's query (a Buffer when not following). */
export type LogOpener = (query: Record<string, unknown>, follow: boolean) => Promise<Readable>;

/**
 * A container's logs as lines. Non-TTY containers send stdout and stderr in
 * the engine's 8-byte-header frames, split with the modem's demuxStream; a
 * TTY container has one raw stream.
 */
export async function openLogs(docker: Dockerode, info: Dockerode.ContainerInspectInfo, options: LogOptions): Promise<LogStream> {
  const container = docker.getContainer(info.Id);
  // The typings want a numeric tail and since; the engine takes "all" and "seconds.nanoseconds" too.
  type FollowOptions = Dockerode.ContainerLogsOptions & { follow: true };
  type OnceOptions = Dockerode.ContainerLogsOptions & { follow?: false };
  return logLines(docker, { id: info.Id, tty: info.Config.Tty === true }, options, async (query, follow) =>
    follow
      ? ((await container.logs({ ...query, follow: true } as unknown as FollowOptions)) as Readable)
      : Readable.from([await container.logs({ ...query, follow: false } as unknown as OnceOptions)]),
  );
}

/** Lines from any engine log endpoint that speaks the container log format (containers, Swarm services). */
export async function logLines(docker: Dockerode, target: { id: string; tty: boolean }, options: LogOptions, open: LogOpener): Promise<LogStream> {
  const tty = target.tty;
  const source = await open(logQuery(options), options.follow);

  const output = new PassThrough({ objectMode: true, highWaterMark: 1024 });
  const emit = (line: LogLine) => output.write(line);
  const stdout = new LineSplitter('stdout', options.timestamps, emit);
  const stderr = new LineSplitter('stderr', options.timestamps, emit);
  if (tty) source.on('data', (chunk: Buffer) => stdout.write(chunk));
  else docker.modem.demuxStream(source, stdout as unknown as NodeJS.WritableStream, stderr as unknown as NodeJS.WritableStream);
  // Back-pressure: a slow reader pauses the engine stream instead of buffering without bound.
  output.on('drain', () => source.resume());
  source.on('data', () => {
    if (output.writableNeedDrain) source.pause();
  });
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    stdout.flush();
    stderr.flush();
    output.end();
  };
  source.on('end', finish);
  source.on('close', finish);
  source.on('error', finish);

  return {
    containerId: target.id,
    tty,
    close() {
      source.destroy();
      finish();
    },
    [Symbol.asyncIterator]: () => output[Symbol.asyncIterator]() as AsyncIterator<LogLine>,
  };
}
