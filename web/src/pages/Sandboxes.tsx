import { ChevronLeft, ChevronRight, Plus, RefreshCw, Search } from 'lucide-react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api';
import { CreateSandboxDialog } from '../components/CreateSandboxDialog';
import { LiveIndicator } from '../components/LiveIndicator';
import { SandboxActions } from '../components/SandboxActions';
import { Button, Card, EmptyState, ErrorState, formatTime, InlineError, Input, Spinner, StatusBadge } from '../components/ui';
import { useEventListener, useEvents } from '../events';
import { Link } from '../router';
import { useSession } from '../session';
import type { FlexyList, FlexySummary } from '../types';

const PAGE = 10;
const STATUSES = ['running', 'stopped', 'paused', 'created', 'restarting'] as const;

export function SandboxesPage() {
  const { user } = useSession();
  const { state: live } = useEvents();
  const [status, setStatus] = useState('');
  const [query, setQuery] = useState('');
  const [page, setPage] = useState(0);
  const [data, setData] = useState<FlexyList | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [refreshing, setRefreshing] = useState(false);
  const [creating, setCreating] = useState(false);
  const request = useRef(0);

  const searching = query.trim() !== '';
  const load = useCallback(async () => {
    const ticket = ++request.current;
    setRefreshing(true);
    try {
      const params = new URLSearchParams({ limit: String(searching ? 100 : PAGE), offset: String(searching ? 0 : page * PAGE) });
      if (status) params.set('status', status);
      const result = await api<FlexyList>('GET', `/api/flexy?${params}`);
      if (ticket === request.current) {
        setData(result);
        setError(null);
      }
    } catch (failure) {
      if (ticket === request.current) setError(failure);
    } finally {
      if (ticket === request.current) setRefreshing(false);
    }
  }, [status, page, searching]);

  useEffect(() => {
    void load();
  }, [load]);

  // Live: patch rows in place from each event; a new or removed sandbox changes the page, so ask again once.
  useEventListener((event) => {
    if (event.type === 'resync' || event.type === 'container.created' || event.type === 'container.deleted') {
      void load();
      return;
    }
    if (!('container' in event)) return;
    setData((current) => {
      if (!current) return current;
      const index = current.containers.findIndex((c) => c.id === event.container.id);
      if (index < 0) return current;
      if (status && event.container.status !== status) {
        void load();
        return current;
      }
      const containers = current.containers.slice();
      containers[index] = { ...containers[index]!, ...event.container };
      return { ...current, containers };
    });
  });

  const rows = (data?.containers ?? []).filter((c) => !searching || matches(c, query));
  const total = searching ? rows.length : (data?.total ?? 0);
  const shown = searching ? rows.slice(page * PAGE, page * PAGE + PAGE) : rows;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const admin = user?.role === 'admin';

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-2">
        <h1 className="mr-auto text-2xl font-semibold">Sandboxes</h1>
        <LiveIndicator state={live} />
        <Button onClick={() => void load()} busy={refreshing} aria-label="Refresh the list">
          {!refreshing && <RefreshCw className="size-4" />} <span className="hidden sm:inline">Refresh</span>
        </Button>
        {admin && (
          <Button variant="primary" onClick={() => setCreating(true)}>
            <Plus className="size-4" /> New sandbox
          </Button>
        )}
      </div>
      <div className="flex flex-col gap-2 sm:flex-row">
        <div className="relative flex-1">
          <Search className="pointer-events-none absolute top-2.5 left-2.5 size-4 text-zinc-400" aria-hidden />
          <Input
            aria-label="Search sandboxes"
            placeholder="Search name, image, folder…"
            className="pl-8"
            value={query}
            onChange={(e) => {
              setQuery(e.target.value);
              setPage(0);
            }}
          />
        </div>
        <select
          aria-label="Filter by status"
          className="h-9 rounded-md border border-zinc-300 bg-white px-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          value={status}
          onChange={(e) => {
            setStatus(e.target.value);
            setPage(0);
          }}
        >
          <option value="">All statuses</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <InlineError error={actionError} />
      <Card>
        {!data && !error ? (
          <Spinner label="Loading sandboxes…" />
        ) : error && !data ? (
          <ErrorState error={error} title="Could not load the sandboxes" onRetry={() => void load()} />
        ) : shown.length === 0 ? (
          <EmptyState title={searching || status ? 'No sandbox matches' : 'No sandboxes yet'}>
            {!searching && !status && admin && 'Create one from a project folder with "New sandbox".'}
          </EmptyState>
        ) : (
          <>
            {error ? <div className="p-2"><InlineError error={error} /></div> : null}
            <table className="w-full text-sm">
              <thead className="hidden border-b border-zinc-200 text-left text-xs text-zinc-500 uppercase md:table-header-group dark:border-zinc-800">
                <tr>
                  <th className="px-3 py-2 font-medium">Name</th>
                  <th className="px-3 py-2 font-medium">Status</th>
                  <th className="px-3 py-2 font-medium">Image</th>
                  <th className="px-3 py-2 font-medium">Folder</th>
                  <th className="px-3 py-2 font-medium">Ports</th>
                  <th className="px-3 py-2 font-medium">Created</th>
                  <th className="px-3 py-2 font-medium">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.map((sandbox) => (
                  <tr key={sandbox.id} data-testid={`sandbox-row-${sandbox.name}`} className="flex flex-col gap-1 border-b border-zinc-100 p-3 last:border-0 md:table-row md:p-0 dark:border-zinc-800">
                    <td className="md:px-3 md:py-2">
                      <Link to={`/sandboxes/${encodeURIComponent(sandbox.name)}`} className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
                        {sandbox.name}
                      </Link>
                    </td>
                    <td className="md:px-3 md:py-2">
                      <StatusBadge status={sandbox.status} />
                    </td>
                    <td className="font-mono text-xs break-all md:px-3 md:py-2">{sandbox.image}</td>
                    <td className="text-xs break-all md:px-3 md:py-2">
                      {sandbox.hostPath ? (
                        <span className="font-mono">
                          {sandbox.hostPath} → {sandbox.containerPath}
                        </span>
                      ) : (
                        <span className="text-zinc-400">no folder</span>
                      )}
                    </td>
                    <td className="text-xs md:px-3 md:py-2" data-testid="ports">
                      {sandbox.ports.length === 0 ? (
                        <span className="text-zinc-400">{sandbox.status === 'running' ? 'none' : '—'}</span>
                      ) : (
                        <ul>
                          {sandbox.ports.map((port) => (
                            <li key={`${port.hostIp}:${port.hostPort}`} className="font-mono whitespace-nowrap" title={`${port.hostIp}:${port.hostPort} on the Kai host → ${port.containerPort}/${port.protocol} in the sandbox`}>
                              {port.hostPort} → {port.containerPort}/{port.protocol}
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                    <td className="text-xs text-zinc-500 md:px-3 md:py-2">{formatTime(sandbox.createdAt)}</td>
                    <td className="md:px-3 md:py-2">
                      {admin && (
                        <SandboxActions
                          sandbox={sandbox}
                          onError={setActionError}
                          onDone={() => {
                            setActionError(null);
                            // With events the row updates itself; without them, ask once now.
                            if (live !== 'live') void load();
                          }}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Card>
      <div className="flex items-center justify-between text-sm text-zinc-500">
        <span>
          {total} sandbox{total === 1 ? '' : 'es'}
          {searching && data && data.total > 100 ? ' (searching the newest 100)' : ''}
        </span>
        <div className="flex items-center gap-2">
          <Button size="sm" aria-label="Previous page" disabled={page === 0} onClick={() => setPage(page - 1)}>
            <ChevronLeft className="size-4" />
          </Button>
          <span>
            Page {page + 1} of {pages}
          </span>
          <Button size="sm" aria-label="Next page" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
            <ChevronRight className="size-4" />
          </Button>
        </div>
      </div>
      <CreateSandboxDialog
        open={creating}
        onOpenChange={setCreating}
        onCreated={() => void load()}
      />
    </div>
  );
}

function matches(sandbox: FlexySummary, query: string): boolean {
  const needle = query.trim().toLowerCase();
  return [sandbox.name, sandbox.image, sandbox.hostPath ?? '', sandbox.id.slice(0, 12)].some((value) => value.toLowerCase().includes(needle));
}
