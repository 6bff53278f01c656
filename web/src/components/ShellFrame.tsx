import { ExternalLink, Loader2, RefreshCw } from 'lucide-react';
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../api';
import { Button, ErrorState } from './ui';

type State = { kind: 'checking' } | { kind: 'loading' } | { kind: 'ready' } | { kind: 'error'; error: unknown };

/** The sandbox's own ttyd, proxied by Kai at /flexy/:id/shell/, with loading, error and retry states. */
export function ShellFrame({ sandbox }: { sandbox: string }) {
  const [state, setState] = useState<State>({ kind: 'checking' });
  const [attempt, setAttempt] = useState(0);
  const src = `/flexy/${encodeURIComponent(sandbox)}/shell/`;

  const check = useCallback(async () => {
    setState({ kind: 'checking' });
    try {
      // Ask for JSON first: Kai answers 409 (not running) or 502 (nothing listening) in its envelope.
      const response = await fetch(src, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!response.ok) {
        const body = (await response.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
        throw new ApiError(response.status, body?.error?.code ?? 'NETWORK_ERROR', body?.error?.message ?? `The shell answered HTTP ${response.status}`);
      }
      setState({ kind: 'loading' });
      setAttempt((n) => n + 1);
    } catch (error) {
      setState({ kind: 'error', error });
    }
  }, [src]);

  useEffect(() => {
    void check();
  }, [check]);

  const openInTab = async () => {
    const link = await api<{ url: string }>('POST', `/api/flexy/${encodeURIComponent(sandbox)}/shell-link`, { target: 'shell' });
    window.open(link.url, '_blank', 'noopener');
  };

  return (
    <div className="space-y-2">
      <div className="flex items-center gap-2">
        <span className="mr-auto text-sm text-zinc-500">ttyd in the sandbox (port 9681)</span>
        <Button size="sm" onClick={() => void check()}>
          <RefreshCw className="size-4" /> Reload
        </Button>
        <Button size="sm" onClick={() => void openInTab()}>
          <ExternalLink className="size-4" /> New tab
        </Button>
      </div>
      {state.kind === 'error' ? (
        <ErrorState error={state.error} title="The sandbox's shell is not available" onRetry={() => void check()} />
      ) : (
        <div className="relative h-[60vh] min-h-64 overflow-hidden rounded-md border border-zinc-200 bg-black dark:border-zinc-800">
          {state.kind !== 'ready' && (
            <div className="absolute inset-0 flex items-center justify-center gap-2 text-sm text-zinc-300" role="status">
              <Loader2 className="size-5 animate-spin" /> Loading the shell…
            </div>
          )}
          {state.kind !== 'checking' && (
            <iframe key={attempt} title={`Shell of ${sandbox}`} src={src} className="h-full w-full" onLoad={() => setState({ kind: 'ready' })} data-testid="shell-frame" />
          )}
        </div>
      )}
    </div>
  );
}
