import { ArrowLeft } from 'lucide-react';
import { Tabs } from 'radix-ui';
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError } from '../api';
import { LiveIndicator } from '../components/LiveIndicator';
import { SandboxActions } from '../components/SandboxActions';
import { LogsPanel } from '../components/LogsPanel';
import { ShellFrame } from '../components/ShellFrame';
import { StatsPanel } from '../components/StatsPanel';
import { Terminal } from '../components/Terminal';
import { Card, ErrorState, formatTime, InlineError, Spinner, StatusBadge } from '../components/ui';
import { useEventListener, useEvents } from '../events';
import { Link, navigate, useLocation } from '../router';
import { useSession } from '../session';
import type { FlexyDetails } from '../types';

const TABS = ['overview', 'logs', 'stats', 'terminal', 'shell'] as const;

export function SandboxPage({ id }: { id: string }) {
  const { user } = useSession();
  const { state: live } = useEvents();
  const { search, pathname } = useLocation();
  const tab = (TABS as readonly string[]).includes(search.get('tab') ?? '') ? search.get('tab')! : 'overview';
  const [sandbox, setSandbox] = useState<FlexyDetails | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [gone, setGone] = useState(false);

  const load = useCallback(async () => {
    try {
      setSandbox(await api<FlexyDetails>('GET', `/api/flexy/${encodeURIComponent(id)}`));
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  useEventListener((event) => {
    if (event.type === 'resync') return void load();
    if (!sandbox || !('container' in event) || event.container.id !== sandbox.id) return;
    if (event.type === 'container.deleted') setGone(true);
    else void load();
  });

  const admin = user?.role === 'admin';
  if (!sandbox && !error) return <Spinner label="Loading the sandbox…" />;
  if (!sandbox) {
    const missing = error instanceof ApiError && error.status === 404;
    return (
      <Card>
        <ErrorState error={error} title={missing ? `No sandbox "${id}"` : 'Could not load the sandbox'} onRetry={missing ? undefined : () => void load()} />
        <p className="pb-6 text-center">
          <Link to="/" className="text-indigo-600 underline">
            Back to sandboxes
          </Link>
        </p>
      </Card>
    );
  }

  const running = sandbox.status === 'running';
  return (
    <div className="space-y-4">
      <Link to="/" className="inline-flex items-center gap-1 text-sm text-zinc-500 hover:underline">
        <ArrowLeft className="size-4" /> Sandboxes
      </Link>
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold break-all">{sandbox.name}</h1>
        <StatusBadge status={gone ? 'removing' : sandbox.status} />
        <LiveIndicator state={live} />
        <div className="ml-auto">
          {admin && !gone && (
            <SandboxActions
              sandbox={sandbox}
              onError={setActionError}
              onDone={(action) => {
                setActionError(null);
                if (action === 'delete') navigate('/');
                else void load();
              }}
            />
          )}
        </div>
      </div>
      {gone && <InlineError error={new Error('This sandbox was deleted.')} />}
      <InlineError error={actionError} />
      <Tabs.Root value={tab} onValueChange={(next) => navigate(`${pathname}?tab=${next}`, { replace: true })}>
        <Tabs.List className="mb-3 flex gap-1 overflow-x-auto border-b border-zinc-200 dark:border-zinc-800" aria-label="Sandbox views">
          {TABS.map((name) => (
            <Tabs.Trigger
              key={name}
              value={name}
              className="-mb-px border-b-2 border-transparent px-3 py-2 text-sm font-medium text-zinc-500 capitalize data-[state=active]:border-indigo-600 data-[state=active]:text-zinc-900 dark:data-[state=active]:text-zinc-100"
            >
              {name}
            </Tabs.Trigger>
          ))}
        </Tabs.List>
        <Tabs.Content value="overview">
          <Overview sandbox={sandbox} />
        </Tabs.Content>
        <Tabs.Content value="logs">
          <LogsPanel sandbox={sandbox.name} running={running} />
        </Tabs.Content>
        <Tabs.Content value="stats">
          <StatsPanel sandbox={sandbox.name} running={running} />
        </Tabs.Content>
        <Tabs.Content value="terminal">
          {!admin ? <Notice>The terminal needs the admin role.</Notice> : running ? <Terminal sandbox={sandbox.name} /> : <Notice>Start the sandbox to open a terminal.</Notice>}
        </Tabs.Content>
        <Tabs.Content value="shell">
          {!admin ? <Notice>The shell needs the admin role.</Notice> : running ? <ShellFrame sandbox={sandbox.name} /> : <Notice>Start the sandbox to open its shell.</Notice>}
        </Tabs.Content>
      </Tabs.Root>
    </div>
  );
}

function Notice({ children }: { children: ReactNode }) {
  return (
    <Card className="p-6 text-center text-sm text-zinc-500">
      <p>{children}</p>
    </Card>
  );
}

function Overview({ sandbox }: { sandbox: FlexyDetails }) {
  const rows: [string, ReactNode][] = [
    ['Id', <code className="font-mono text-xs break-all">{sandbox.id}</code>],
    ['Image', <code className="font-mono text-xs">{sandbox.image}</code>],
    ['Created', formatTime(sandbox.createdAt)],
    ['Started', formatTime(sandbox.startedAt)],
    ['Finished', sandbox.finishedAt ? `${formatTime(sandbox.finishedAt)} (exit code ${sandbox.exitCode ?? '—'})` : '—'],
    ['Network', sandbox.network ?? '—'],
  ];
  // Swarm: the machine it runs on (or is pinned to), and why it is not running when the engine says.
  if (sandbox.node) rows.push(['Node', <span title={sandbox.node.id}>{sandbox.node.hostname || sandbox.node.id}</span>]);
  if (sandbox.statusReason) rows.push(['Status', <span className={sandbox.status === 'error' ? 'text-red-700 dark:text-red-400' : undefined}>{sandbox.statusReason}</span>]);
  return (
    <div className="grid gap-4 md:grid-cols-2">
      <Card className="p-4">
        <h2 className="mb-2 font-medium">Details</h2>
        <dl className="grid grid-cols-[7rem_1fr] gap-x-3 gap-y-1.5 text-sm">
          {rows.map(([label, value]) => (
            <div key={label} className="contents">
              <dt className="text-zinc-500">{label}</dt>
              <dd className="min-w-0">{value}</dd>
            </div>
          ))}
        </dl>
      </Card>
      <Card className="p-4">
        <h2 className="mb-2 font-medium">Ports</h2>
        {sandbox.ports.length === 0 ? (
          <p className="text-sm text-zinc-500">No published ports{sandbox.status !== 'running' ? ' (shown while running)' : ''}.</p>
        ) : (
          <ul className="space-y-1 text-sm">
            {sandbox.ports.map((port) => (
              <li key={`${port.containerPort}/${port.protocol}`} className="font-mono text-xs">
                {port.hostIp}:{port.hostPort} → {port.containerPort}/{port.protocol}
              </li>
            ))}
          </ul>
        )}
        <h2 className="mt-4 mb-2 font-medium">Volumes</h2>
        {sandbox.volumes.length === 0 ? (
          <p className="text-sm text-zinc-500">No folder mounted.</p>
        ) : (
          <ul className="space-y-1 text-sm">
            {sandbox.volumes.map((volume) => (
              <li key={volume.containerPath} className="font-mono text-xs break-all">
                {volume.hostPath} → {volume.containerPath} ({volume.mode})
              </li>
            ))}
          </ul>
        )}
        <h2 className="mt-4 mb-2 font-medium">Environment</h2>
        {sandbox.envKeys.length === 0 ? (
          <p className="text-sm text-zinc-500">No variables set at create.</p>
        ) : (
          <ul className="flex flex-wrap gap-1.5">
            {sandbox.envKeys.map((key) => (
              <li key={key} className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-xs dark:bg-zinc-800">
                {key}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}
