import { FitAddon } from '@xterm/addon-fit';
import { Terminal as XTerm } from '@xterm/xterm';
import { RefreshCw } from 'lucide-react';
import { useEffect, useRef, useState } from 'react';
import { Button } from './ui';

type State = { kind: 'connecting' } | { kind: 'open' } | { kind: 'reconnecting'; attempt: number } | { kind: 'ended'; reason: string };

const ENDED: Record<number, string> = {
  1000: 'The terminal session was closed.',
  1001: 'Kai is shutting down.',
  4001: 'The shell exited.',
  4002: 'The sandbox stopped.',
  4003: 'The terminal session expired.',
};

/**
 * Kai's built-in terminal (docs/api.md "Built-in terminal"): binary frames both
 * ways, JSON text frames for control. A dropped connection reattaches to the same
 * session with ?session=<id>, which replays what the shell printed meanwhile.
 */
export function Terminal({ sandbox }: { sandbox: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<State>({ kind: 'connecting' });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const term = new XTerm({ cursorBlink: true, fontSize: 14, fontFamily: 'ui-monospace, Menlo, Consolas, monospace', scrollback: 5000, theme: { background: '#18181b' } });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host.current!);
    try {
      fit.fit();
    } catch {
      // not laid out yet
    }
    const encoder = new TextEncoder();
    let socket: WebSocket | null = null;
    let session: string | null = null;
    let attempt = 0;
    let disposed = false;
    let retry: ReturnType<typeof setTimeout> | undefined;

    const sendResize = () => {
      if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
    };

    const connect = () => {
      const params = new URLSearchParams({ cols: String(term.cols), rows: String(term.rows) });
      if (session) params.set('session', session);
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
      const ws = new WebSocket(`${scheme}://${location.host}/api/flexy/${encodeURIComponent(sandbox)}/terminal?${params}`);
      ws.binaryType = 'arraybuffer';
      socket = ws;
      ws.onopen = () => {
        attempt = 0;
        setState({ kind: 'open' });
        sendResize();
      };
      ws.onmessage = (message) => {
        if (typeof message.data === 'string') {
          const control = JSON.parse(message.data) as { type: string; id?: string; replayBytes?: number; reason?: string };
          if (control.type === 'session') {
            // Reattached: the replay that follows redraws what we had, so start from a clean screen.
            if (session && control.id === session && (control.replayBytes ?? 0) > 0) term.reset();
            session = control.id ?? null;
          }
          return;
        }
        term.write(new Uint8Array(message.data as ArrayBuffer));
      };
      ws.onclose = (event) => {
        if (disposed || socket !== ws) return;
        const ended = ENDED[event.code];
        if (ended) {
          setState({ kind: 'ended', reason: ended });
          return;
        }
        attempt += 1;
        if (attempt > 8) {
          setState({ kind: 'ended', reason: 'Could not reach the terminal. Is the sandbox running?' });
          return;
        }
        setState({ kind: 'reconnecting', attempt });
        retry = setTimeout(connect, Math.min(500 * 2 ** (attempt - 1), 8000));
      };
    };

    const input = term.onData((data) => {
      if (socket?.readyState === WebSocket.OPEN) socket.send(encoder.encode(data));
    });
    const binary = term.onBinary((data) => {
      if (socket?.readyState === WebSocket.OPEN) socket.send(Uint8Array.from(data, (c) => c.charCodeAt(0)));
    });
    const resized = term.onResize(sendResize);
    const observer = new ResizeObserver(() => {
      try {
        fit.fit();
      } catch {
        // hidden
      }
    });
    observer.observe(host.current!);
    connect();
    term.focus();

    return () => {
      disposed = true;
      clearTimeout(retry);
      observer.disconnect();
      input.dispose();
      binary.dispose();
      resized.dispose();
      socket?.close(1000);
      term.dispose();
    };
  }, [sandbox, generation]);

  return (
    <div className="space-y-2">
      <div className="flex items-center gap-2 text-sm text-zinc-500" data-terminal-state={state.kind}>
        <span>
          {state.kind === 'connecting' && 'Connecting…'}
          {state.kind === 'open' && 'Connected'}
          {state.kind === 'reconnecting' && `Connection lost; reconnecting (attempt ${state.attempt})…`}
          {state.kind === 'ended' && state.reason}
        </span>
        {state.kind === 'ended' && (
          <Button size="sm" onClick={() => setGeneration((g) => g + 1)}>
            <RefreshCw className="size-4" /> New terminal
          </Button>
        )}
      </div>
      <div ref={host} className="h-[60vh] min-h-64 w-full overflow-hidden rounded-md bg-zinc-900 p-1" data-testid="terminal" />
    </div>
  );
}
