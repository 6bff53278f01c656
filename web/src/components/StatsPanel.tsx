import { RefreshCw } from 'lucide-react';
import { useEffect, useState } from 'react';
import { ApiError, streamSse } from '../api';
import type { Stats } from '../types';
import { Button, Card, ErrorState, Spinner } from './ui';

/** Samples kept for the charts: about a minute at one a second. */
const HISTORY = 60;

type State = { kind: 'connecting' } | { kind: 'live' } | { kind: 'not-running' } | { kind: 'ended' } | { kind: 'failed'; error: unknown };

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** Live CPU and memory of a running sandbox from `stats?stream=true`, with one-minute sparklines. */
export function StatsPanel({ sandbox, running }: { sandbox: string; running: boolean }) {
  const [samples, setSamples] = useState<Stats[]>([]);
  const [state, setState] = useState<State>({ kind: 'connecting' });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setState({ kind: 'connecting' });
    streamSse(
      `/api/flexy/${encodeURIComponent(sandbox)}/stats?stream=true`,
      (event, data) => {
        if (event !== 'stats') return;
        setState({ kind: 'live' });
        setSamples((current) => current.concat(data as Stats).slice(-HISTORY));
      },
      controller.signal,
    )
      .then(() => {
        if (!controller.signal.aborted) setState({ kind: 'ended' });
      })
      .catch((failure: unknown) => {
        if (controller.signal.aborted) return;
        // 409 CONFLICT: the sandbox is not running, so there is nothing to measure.
        setState(failure instanceof ApiError && failure.status === 409 ? { kind: 'not-running' } : { kind: 'failed', error: failure });
      });
    return () => controller.abort();
    // `running` too: ask again when the sandbox starts or stops.
  }, [sandbox, running, generation]);

  const latest = samples.at(-1);
  const stopped = state.kind === 'not-running' || (state.kind === 'ended' && !running);

  if (stopped || state.kind === 'ended') {
    return (
      <Card className="p-6 text-center text-sm text-zinc-500" >
        <p data-stats-state={stopped ? 'not-running' : 'ended'}>
          {stopped ? 'The sandbox is not running: start it to see its CPU and memory.' : 'The stats stream ended.'}
        </p>
        {!stopped && (
          <Button size="sm" className="mt-3" onClick={() => setGeneration((g) => g + 1)}>
            <RefreshCw className="size-4" /> Retry
          </Button>
        )}
      </Card>
    );
  }
  if (state.kind === 'failed') {
    return (
      <Card>
        <ErrorState error={state.error} title="Could not read the stats" onRetry={() => setGeneration((g) => g + 1)} />
      </Card>
    );
  }
  if (!latest) return <Spinner label="Measuring (the engine takes about a second)…" />;

  const limit = latest.memory.limitBytes;
  return (
    <div className="grid gap-4 md:grid-cols-2" data-stats-state={state.kind}>
      <Card className="p-4">
        <div className="flex items-baseline justify-between">
          <h2 className="font-medium">CPU</h2>
          <span className="font-mono text-lg" data-testid="cpu-value">
            {latest.cpuPercent.toFixed(1)} %
          </span>
        </div>
        <p className="mb-2 text-xs text-zinc-500">
          Percent of one core · {latest.onlineCpus} CPU{latest.onlineCpus === 1 ? '' : 's'} · {latest.pids} process{latest.pids === 1 ? '' : 'es'}
        </p>
        <Sparkline label="CPU over the last minute" values={samples.map((s) => s.cpuPercent)} max={Math.max(100, ...samples.map((s) => s.cpuPercent))} className="text-indigo-500" />
      </Card>
      <Card className="p-4">
        <div className="flex items-baseline justify-between">
          <h2 className="font-medium">Memory</h2>
          <span className="font-mono text-lg" data-testid="memory-value">
            {formatBytes(latest.memory.usedBytes)} / {formatBytes(limit)}
          </span>
        </div>
        <p className="mb-2 text-xs text-zinc-500">
          {latest.memory.percent.toFixed(1)} % of the limit · net ↓ {formatBytes(latest.network.rxBytes)} ↑ {formatBytes(latest.network.txBytes)}
        </p>
        <Sparkline label="Memory over the last minute" values={samples.map((s) => s.memory.usedBytes)} max={Math.max(1, ...samples.map((s) => s.memory.usedBytes)) * 1.25} className="text-emerald-500" />
      </Card>
    </div>
  );
}

/** An inline SVG line chart, newest sample on the right. */
function Sparkline({ values, max, label, className }: { values: number[]; max: number; label: string; className?: string }) {
  const width = 120;
  const height = 32;
  const step = width / (HISTORY - 1);
  const offset = (HISTORY - values.length) * step;
  const points = values.map((value, index) => `${(offset + index * step).toFixed(2)},${(height - (Math.min(value, max) / max) * (height - 2) - 1).toFixed(2)}`).join(' ');
  return (
    <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" className={`h-16 w-full ${className ?? ''}`} role="img" aria-label={label} data-testid="sparkline" data-points={values.length}>
      <line x1="0" x2={width} y1={height - 1} y2={height - 1} className="stroke-zinc-300 dark:stroke-zinc-700" strokeWidth="0.5" vectorEffect="non-scaling-stroke" />
      {values.length > 1 && <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" vectorEffect="non-scaling-stroke" strokeLinejoin="round" />}
      {values.length === 1 && <circle cx={offset} cy={points.split(',')[1]} r="1.5" fill="currentColor" />}
    </svg>
  );
}
