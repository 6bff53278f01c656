import { Check, Copy, History, Plus, RefreshCw, Send, Trash2 } from 'lucide-react';
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError } from '../api';
import { Button, Card, cn, Confirm, EmptyState, ErrorState, Field, formatTime, InlineError, Input, Spinner } from '../components/ui';
import { useSession } from '../session';
import type { ApiToken, NewApiToken, User, Webhook, WebhookDelivery } from '../types';

export function SettingsPage() {
  const { user } = useSession();
  const admin = user?.role === 'admin';
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold">Settings</h1>
      <PasswordSection />
      <TokensSection />
      {admin && <UsersSection />}
      {admin && <WebhooksSection />}
    </div>
  );
}

function Section({ title, description, children }: { title: string; description?: string; children: ReactNode }) {
  return (
    <Card className="p-4">
      <h2 className="font-medium">{title}</h2>
      {description && <p className="mb-3 text-sm text-zinc-500">{description}</p>}
      <div className="mt-3">{children}</div>
    </Card>
  );
}

/** Loads a list once and on demand, with the loading/error states every section shares. */
function useList<T>(path: string, pick: (data: never) => T[]) {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setItems(pick(await api<never>('GET', path)));
      setError(null);
    } catch (failure) {
      setError(failure);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path]);
  useEffect(() => {
    void load();
  }, [load]);
  return { items, error, load };
}

function Secret({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <div className="mb-2 rounded-md bg-amber-50 p-3 text-sm dark:bg-amber-950/40" role="status">
      <p className="mb-1 font-medium">{label} — shown only now:</p>
      <div className="flex items-center gap-2">
        <code className="flex-1 font-mono text-xs break-all select-all" data-testid="secret">
          {value}
        </code>
        <Button size="sm" onClick={() => void copy()} aria-label="Copy">
          {copied === 'yes' ? <Check className="size-4" /> : <Copy className="size-4" />} {copied === 'yes' ? 'Copied' : 'Copy'}
        </Button>
      </div>
      {copied === 'failed' && <p className="mt-1 text-xs text-red-600">The browser refused the clipboard: select the secret and copy it by hand.</p>}
    </div>
  );
}

function PasswordSection() {
  const { user } = useSession();
  const [oldPassword, setOld] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [done, setDone] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    setDone(false);
    try {
      await api('PUT', `/api/users/${encodeURIComponent(user!.username)}/password`, { oldPassword, password });
      setOld('');
      setPassword('');
      setDone(true);
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'VALIDATION_ERROR') setFields(failure.fieldErrors());
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Your password" description="Your other sessions end when it changes.">
      <form className="grid max-w-md gap-3" onSubmit={(event) => void submit(event)} noValidate>
        <Field label="Current password" htmlFor="old-password" error={fields.oldPassword}>
          <Input id="old-password" type="password" autoComplete="current-password" value={oldPassword} onChange={(e) => setOld(e.target.value)} />
        </Field>
        <Field label="New password" htmlFor="new-password" error={fields.password} hint="At least 8 characters">
          <Input id="new-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <InlineError error={error} />
        {done && <p className="text-sm text-emerald-600">Password changed.</p>}
        <div>
          <Button type="submit" variant="primary" busy={busy}>
            Change password
          </Button>
        </div>
      </form>
    </Section>
  );
}

function TokensSection() {
  const { items, error, load } = useList<ApiToken>('/api/auth/tokens', (data: { tokens: ApiToken[] }) => data.tokens);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<NewApiToken | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setActionError(null);
    try {
      setCreated(await api<NewApiToken>('POST', '/api/auth/tokens', { name }));
      setName('');
      await load();
    } catch (failure) {
      setActionError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="API tokens" description="For scripts: send as Authorization: Bearer. They carry your role.">
      <form className="mb-3 flex gap-2" onSubmit={(event) => void create(event)}>
        <Input aria-label="New token name" placeholder="Token name" value={name} onChange={(e) => setName(e.target.value)} className="max-w-xs" />
        <Button type="submit" busy={busy} disabled={!name.trim()}>
          <Plus className="size-4" /> Create
        </Button>
      </form>
      <InlineError error={actionError} />
      {created && <Secret label={`Token "${created.name}"`} value={created.token} />}
      {!items && !error ? (
        <Spinner />
      ) : !items ? (
        <ErrorState error={error} onRetry={() => void load()} />
      ) : items.length === 0 ? (
        <p className="text-sm text-zinc-500">No tokens.</p>
      ) : (
        <ul className="mt-2 divide-y divide-zinc-100 dark:divide-zinc-800">
          {items.map((token) => (
            <li key={token.id} className="flex items-center gap-2 py-2 text-sm">
              <span className="flex-1">
                <span className="font-medium">{token.name}</span>{' '}
                <span className="text-xs text-zinc-500">
                  created {formatTime(token.createdAt)} · last used {formatTime(token.lastUsedAt)}
                </span>
              </span>
              <Button size="sm" variant="ghost" className="text-red-600" aria-label={`Revoke ${token.name}`} onClick={() => setRevoking(token)}>
                <Trash2 className="size-4" />
              </Button>
            </li>
          ))}
        </ul>
      )}
      <Confirm
        open={revoking !== null}
        onOpenChange={(open) => !open && setRevoking(null)}
        title={`Revoke token "${revoking?.name ?? ''}"?`}
        description="Scripts using it stop working at once."
        action="Revoke"
        onConfirm={async () => {
          await api('DELETE', `/api/auth/tokens/${revoking!.id}`);
          await load();
        }}
      />
    </Section>
  );
}

function UsersSection() {
  const { user: me } = useSession();
  const { items, error, load } = useList<User>('/api/users', (data: { users: User[] }) => data.users);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<'admin' | 'viewer'>('viewer');
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [deleting, setDeleting] = useState<User | null>(null);
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setActionError(null);
    setFields({});
    try {
      await api('POST', '/api/users', { username, password, role });
      setUsername('');
      setPassword('');
      await load();
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'VALIDATION_ERROR') setFields(failure.fieldErrors());
      setActionError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Users" description="Viewers read; admins change things.">
      <form className="mb-3 grid gap-2 sm:grid-cols-[1fr_1fr_auto_auto] sm:items-end" onSubmit={(event) => void create(event)} noValidate>
        <Field label="Username" htmlFor="new-username" error={fields.username}>
          <Input id="new-username" value={username} onChange={(e) => setUsername(e.target.value)} />
        </Field>
        <Field label="Password" htmlFor="new-user-password" error={fields.password}>
          <Input id="new-user-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <select aria-label="Role" className="h-9 rounded-md border border-zinc-300 bg-white px-2 text-sm dark:border-zinc-700 dark:bg-zinc-900" value={role} onChange={(e) => setRole(e.target.value as 'admin' | 'viewer')}>
          <option value="viewer">viewer</option>
          <option value="admin">admin</option>
        </select>
        <Button type="submit" busy={busy}>
          <Plus className="size-4" /> Add user
        </Button>
      </form>
      <InlineError error={actionError} />
      {!items && !error ? (
        <Spinner />
      ) : !items ? (
        <ErrorState error={error} onRetry={() => void load()} />
      ) : (
        <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {items.map((u) => (
            <li key={u.username} className="flex items-center gap-2 py-2 text-sm">
              <span className="flex-1">
                <span className="font-medium">{u.username}</span> <span className="text-xs text-zinc-500">{u.role}</span>
              </span>
              {u.username !== me?.username && (
                <Button size="sm" variant="ghost" className="text-red-600" aria-label={`Delete user ${u.username}`} onClick={() => setDeleting(u)}>
                  <Trash2 className="size-4" />
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
      <Confirm
        open={deleting !== null}
        onOpenChange={(open) => !open && setDeleting(null)}
        title={`Delete user "${deleting?.username ?? ''}"?`}
        description="Their sessions and API tokens end."
        action="Delete user"
        onConfirm={async () => {
          await api('DELETE', `/api/users/${encodeURIComponent(deleting!.username)}`);
          await load();
        }}
      />
    </Section>
  );
}

function WebhooksSection() {
  const { items, error, load } = useList<Webhook>('/api/settings/webhooks', (data: { webhooks: Webhook[] }) => data.webhooks);
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [created, setCreated] = useState<Webhook | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  const [open, setOpen] = useState<Record<string, boolean>>({});
  /** Bumped per webhook to make its delivery log ask again (after a test). */
  const [refresh, setRefresh] = useState<Record<string, number>>({});

  if (error instanceof ApiError && error.status === 404) {
    return (
      <Section title="Webhooks">
        <EmptyState title="Webhooks are not available">This Kai has no webhook settings API (/api/settings/webhooks) yet.</EmptyState>
      </Section>
    );
  }
  const act = async (key: string, work: () => Promise<unknown>, done?: string) => {
    setActionError(null);
    setNotice(null);
    setPending(key);
    try {
      await work();
      if (done) setNotice(done);
      await load();
    } catch (failure) {
      setActionError(failure);
    } finally {
      setPending(null);
    }
  };
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFields({});
    setCreated(null);
    await act('create', async () => {
      try {
        setCreated(await api<Webhook>('POST', '/api/settings/webhooks', { url: url.trim(), ...(description.trim() ? { description: description.trim() } : {}) }));
      } catch (failure) {
        if (failure instanceof ApiError && failure.code === 'VALIDATION_ERROR') setFields(failure.fieldErrors());
        throw failure;
      }
      setUrl('');
      setDescription('');
    });
    setBusy(false);
  };
  const test = (hook: Webhook) =>
    act(`test-${hook.id}`, async () => {
      const { delivery } = await api<{ delivery: WebhookDelivery }>('POST', `/api/settings/webhooks/${hook.id}/test`);
      setNotice(
        delivery.status === 'succeeded'
          ? `Test delivered: ${hook.url} answered ${delivery.lastStatusCode ?? ''} in ${delivery.lastDurationMs ?? '?'} ms.`
          : `Test not delivered yet (${delivery.lastStatusCode ?? delivery.lastError ?? 'no answer'}); Kai retries ${delivery.nextAttemptAt ? `at ${formatTime(delivery.nextAttemptAt)}` : 'no more'}.`,
      );
      setOpen((current) => ({ ...current, [hook.id]: true }));
      setRefresh((current) => ({ ...current, [hook.id]: (current[hook.id] ?? 0) + 1 }));
    });
  return (
    <Section title="Webhooks" description="Signed (Standard Webhooks) notifications of sandbox lifecycle events, retried until they are delivered.">
      <form className="mb-3 grid gap-2 sm:grid-cols-[2fr_1fr_auto] sm:items-end" onSubmit={(event) => void create(event)} noValidate>
        <Field label="URL" htmlFor="webhook-url" error={fields.url}>
          <Input id="webhook-url" placeholder="https://example.com/kai-hook" value={url} onChange={(e) => setUrl(e.target.value)} aria-invalid={Boolean(fields.url)} />
        </Field>
        <Field label="Description (optional)" htmlFor="webhook-description" error={fields.description}>
          <Input id="webhook-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <Button type="submit" busy={busy} disabled={!url.trim()}>
          <Plus className="size-4" /> Add webhook
        </Button>
      </form>
      <InlineError error={actionError} />
      {notice && (
        <p className="mb-2 text-sm text-emerald-700 dark:text-emerald-400" role="status">
          {notice}
        </p>
      )}
      {created?.secret && <Secret label={`Signing secret for ${created.url}`} value={created.secret} />}
      {!items && !error ? (
        <Spinner />
      ) : !items ? (
        <ErrorState error={error} title="Could not load the webhooks" onRetry={() => void load()} />
      ) : items.length === 0 ? (
        <p className="text-sm text-zinc-500">No webhooks.</p>
      ) : (
        <ul className="mt-2 divide-y divide-zinc-100 dark:divide-zinc-800">
          {items.map((hook) => (
            <li key={hook.id} className="py-2 text-sm" data-testid={`webhook-${hook.url}`}>
              <div className="flex flex-wrap items-center gap-2">
                <span className="min-w-0 basis-full sm:basis-0 sm:flex-1">
                  <span className="font-mono text-xs break-all">{hook.url}</span>
                  {hook.description && <span className="ml-2 text-xs text-zinc-500">{hook.description}</span>}
                  <span className="block text-xs text-zinc-500">
                    {hook.events ? hook.events.join(', ') : 'all events'}
                    {!hook.enabled && <span className="ml-2 text-amber-600">disabled{hook.disabledReason ? `: ${hook.disabledReason}` : ''}</span>}
                  </span>
                </span>
                <label className="flex items-center gap-1 text-xs">
                  <input
                    type="checkbox"
                    checked={hook.enabled}
                    disabled={pending === `enable-${hook.id}`}
                    aria-label={`Enabled: ${hook.url}`}
                    onChange={(e) => {
                      const enabled = e.target.checked;
                      void act(`enable-${hook.id}`, () => api('PATCH', `/api/settings/webhooks/${hook.id}`, { enabled }), enabled ? 'Webhook enabled.' : 'Webhook disabled.');
                    }}
                  />{' '}
                  enabled
                </label>
                <Button size="sm" busy={pending === `test-${hook.id}`} disabled={!hook.enabled} onClick={() => void test(hook)} aria-label={`Send a test to ${hook.url}`} title={hook.enabled ? 'Send a webhook.ping now' : 'Enable it to send a test'}>
                  <Send className="size-4" /> Test
                </Button>
                <Button size="sm" aria-expanded={Boolean(open[hook.id])} onClick={() => setOpen((current) => ({ ...current, [hook.id]: !current[hook.id] }))}>
                  <History className="size-4" /> Deliveries
                </Button>
                <Button size="sm" variant="ghost" className="text-red-600" aria-label={`Delete webhook ${hook.url}`} onClick={() => setDeleting(hook)}>
                  <Trash2 className="size-4" />
                </Button>
              </div>
              {open[hook.id] && <DeliveryLog webhook={hook} refresh={refresh[hook.id] ?? 0} />}
            </li>
          ))}
        </ul>
      )}
      <Confirm
        open={deleting !== null}
        onOpenChange={(next) => !next && setDeleting(null)}
        title="Delete this webhook?"
        description={
          <>
            <code className="font-mono text-xs break-all">{deleting?.url}</code>
            <p className="mt-2">Its delivery history goes too; pending deliveries are dropped.</p>
          </>
        }
        action="Delete webhook"
        onConfirm={async () => {
          await api('DELETE', `/api/settings/webhooks/${deleting!.id}`);
          if (created?.id === deleting!.id) setCreated(null);
          await load();
        }}
      />
    </Section>
  );
}

const deliveryColors: Record<string, string> = {
  succeeded: 'text-emerald-700 dark:text-emerald-400',
  pending: 'text-amber-700 dark:text-amber-400',
  failed: 'text-red-700 dark:text-red-400',
};

/** One webhook's deliveries, newest first (GET …/deliveries). */
function DeliveryLog({ webhook, refresh }: { webhook: Webhook; refresh: number }) {
  const { items, error, load } = useList<WebhookDelivery>(`/api/settings/webhooks/${webhook.id}/deliveries?limit=50`, (data: { deliveries: WebhookDelivery[] }) => data.deliveries);
  const [reloading, setReloading] = useState(false);
  const reload = useCallback(async () => {
    setReloading(true);
    await load();
    setReloading(false);
  }, [load]);
  useEffect(() => {
    if (refresh > 0) void reload();
  }, [refresh, reload]);
  return (
    <div className="mt-2 rounded-md border border-zinc-200 p-2 dark:border-zinc-800" data-testid="delivery-log">
      <div className="mb-1 flex items-center justify-between">
        <h3 className="text-xs font-medium text-zinc-500 uppercase">Delivery log</h3>
        <Button size="sm" variant="ghost" busy={reloading} onClick={() => void reload()} aria-label={`Reload deliveries of ${webhook.url}`}>
          {!reloading && <RefreshCw className="size-4" />}
        </Button>
      </div>
      {!items && !error ? (
        <Spinner label="Loading deliveries…" />
      ) : !items ? (
        <ErrorState error={error} title="Could not load the deliveries" onRetry={() => void reload()} />
      ) : items.length === 0 ? (
        <p className="p-2 text-xs text-zinc-500">No deliveries yet. Use Test to send a ping.</p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-xs">
            <thead className="text-left text-zinc-500">
              <tr>
                <th className="px-2 py-1 font-medium">Event</th>
                <th className="px-2 py-1 font-medium">Status</th>
                <th className="px-2 py-1 font-medium">Attempts</th>
                <th className="px-2 py-1 font-medium">Code</th>
                <th className="px-2 py-1 font-medium">Duration</th>
                <th className="px-2 py-1 font-medium">Next retry</th>
                <th className="px-2 py-1 font-medium">Last error</th>
                <th className="px-2 py-1 font-medium">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((delivery) => (
                <tr key={delivery.id} className="border-t border-zinc-100 dark:border-zinc-800" data-testid="delivery-row" data-delivery-status={delivery.status}>
                  <td className="px-2 py-1 font-mono">{delivery.eventType}</td>
                  <td className={cn('px-2 py-1 font-medium', deliveryColors[delivery.status])}>{delivery.status}</td>
                  <td className="px-2 py-1">{delivery.attempts}</td>
                  <td className="px-2 py-1 font-mono" data-testid="delivery-code">
                    {delivery.lastStatusCode ?? '—'}
                  </td>
                  <td className="px-2 py-1 whitespace-nowrap">{delivery.lastDurationMs === null ? '—' : `${delivery.lastDurationMs} ms`}</td>
                  <td className="px-2 py-1 whitespace-nowrap">{delivery.status === 'pending' ? formatTime(delivery.nextAttemptAt) : '—'}</td>
                  <td className="max-w-60 px-2 py-1 break-words text-red-700 dark:text-red-400">{delivery.lastError ?? ''}</td>
                  <td className="px-2 py-1 whitespace-nowrap text-zinc-500">{formatTime(delivery.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
