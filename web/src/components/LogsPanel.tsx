import { Pause, Play, RefreshCw } from 'lucide-react';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { api, streamSse } from '../api';
import type { LogLine, Logs } from '../types';
import { Button, Card, ErrorState, InlineError, Spinner, cn } from './ui';

const TAIL = 500;
/** Lines kept in the page while following; older ones fall off the top. */
const KEEP = 5000;

type Follow = { kind: 'off' } | { kind: 'connecting' } | { kind: 'live' } | { kind: 'ended' } | { kind: 'failed'; error: unknown };

/**
 * The sandbox's recent log lines (stdout and stderr told apart) and, with Follow, the
 * live `logs?follow=true` SSE stream. Sticks to the bottom unless the reader scrolled up.
 */
export function LogsPanel({ sandbox, running }: { sandbox: string; running: boolean }) {
  const [lines, setLines] = useState<LogLine[] | null>(null);
  const [tty, setTty] = useState(false);
  const [truncated, setTruncated] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [follow, setFollow] = useState<Follow>({ kind: 'off' });
  const [generation, setGeneration] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const base = `/api/flexy/${encodeURIComponent(sandbox)}/logs`;

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const result = await api<Logs>('GET', `${base}?tail=${TAIL}`);
      setLines(result.lines);
      setTty(result.tty);
      setTruncated(result.truncated);
      setError(null);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  }, [base]);

  const following = follow.kind === 'connecting' || follow.kind === 'live';

  useEffect(() => {
    if (!following) void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [load]);

  // Follow: the stream replays the last TAIL lines, then sends new ones as they come.
  useEffect(() => {
    if (!following) return;
    const controller = new AbortController();
    let first = true;
    streamSse(
      `${base}?follow=true&tail=${TAIL}`,
      (event, data) => {
        if (event !== 'log') return;
        if (first) {
          first = false;
          setFollow({ kind: 'live' });
          setLines([]);
          setError(null);
        }
        setLines((current) => {
          const next = (current ?? []).concat(data as LogLine);
          return next.length > KEEP ? next.slice(next.length - KEEP) : next;
        });
      },
      controller.signal,
    )
      .then(() => {
        if (controller.signal.aborted) return;
        if (first) setLines([]);
        setFollow({ kind: 'ended' });
      })
      .catch((failure: unknown) => {
        if (!controller.signal.aborted) setFollow({ kind: 'failed', error: failure });
      });
    // Nothing logged yet: the stream is open all the same.
    const opened = setTimeout(() => setFollow((current) => (current.kind === 'connecting' ? { kind: 'live' } : current)), 1500);
    return () => {
      clearTimeout(opened);
      controller.abort();
    };
  }, [following, base, generation]);

  useLayoutEffect(() => {
    const element = box.current;
    if (element && stick.current) element.scrollTop = element.scrollHeight;
  }, [lines]);

  const toggle = () => {
    if (following) {
      setFollow({ kind: 'off' });
      return;
    }
    stick.current = true;
    setFollow({ kind: 'connecting' });
    setGeneration((g) => g + 1);
  };

  return (
    <Card className="p-3">
      <div className="mb-2 flex flex-wrap items-center gap-2 text-sm">
        <Button size="sm" variant={following ? 'primary' : 'secondary'} aria-pressed={following} onClick={toggle}>
          {following ? <Pause className="size-4" /> : <Play className="size-4" />} Follow
        </Button>
        <Button size="sm" onClick={() => void load()} busy={loading} disabled={following} aria-label="Reload the logs">
          {!loading && <RefreshCw className="size-4" />} Reload
        </Button>
        <span className="text-zinc-500" data-follow-state={follow.kind} role="status">
          {follow.kind === 'connecting' && 'Connecting…'}
          {follow.kind === 'live' && 'Following new lines'}
          {follow.kind === 'ended' && (running ? 'The log stream ended.' : 'The log stream ended: the sandbox is not running.')}
          {follow.kind === 'off' && `Last ${TAIL} lines${truncated ? ' (older ones cut)' : ''}`}
        </span>
        <span className="ml-auto flex items-center gap-3 text-xs text-zinc-500">
          {tty ? (
            <span>TTY: one combined stream</span>
          ) : (
            <>
              <span className="flex items-center gap-1">
                <span className="inline-block size-2 rounded-full bg-zinc-400" aria-hidden /> stdout
              </span>
              <span className="flex items-center gap-1">
                <span className="inline-block size-2 rounded-full bg-red-500" aria-hidden /> stderr
              </span>
            </>
          )}
        </span>
      </div>
      {follow.kind === 'failed' && (
        <div className="mb-2 flex items-center gap-2">
          <div className="flex-1">
            <InlineError error={follow.error} />
          </div>
          <Button size="sm" onClick={() => {
            setFollow({ kind: 'connecting' });
            setGeneration((g) => g + 1);
          }}>
            <RefreshCw className="size-4" /> Retry
          </Button>
        </div>
      )}
      {lines === null && !error ? (
        <Spinner label="Loading the logs…" />
      ) : lines === null ? (
        <ErrorState error={error} title="Could not load the logs" onRetry={() => void load()} />
      ) : (
        <>
          {error ? <InlineError error={error} /> : null}
          <div
            ref={box}
            data-testid="logs"
            tabIndex={0}
            aria-label="Log lines"
            onScroll={(event) => {
              const element = event.currentTarget;
              stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
            }}
            className="h-[55vh] min-h-48 overflow-auto rounded-md bg-zinc-950 p-2 font-mono text-xs leading-5 text-zinc-200"
          >
            {lines.length === 0 ? (
              <p className="text-zinc-500">No log lines{following ? ' yet' : ''}.</p>
            ) : (
              lines.map((line, index) => (
                <div key={index} data-stream={line.stream} className={cn('break-all whitespace-pre-wrap', line.stream === 'stderr' && 'border-l-2 border-red-500 pl-1.5 text-red-300')}>
                  {line.timestamp && <span className="mr-2 text-zinc-500">{line.timestamp}</span>}
                  {line.line}
                </div>
              ))
            )}
          </div>
        </>
      )}
    </Card>
  );
}
