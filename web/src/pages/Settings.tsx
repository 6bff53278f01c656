import { Copy, Plus, Send, Trash2 } from 'lucide-react';
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError } from '../api';
import { Button, Card, Confirm, EmptyState, ErrorState, Field, formatTime, InlineError, Input, Spinner } from '../components/ui';
import { useSession } from '../session';
import type { ApiToken, NewApiToken, User, Webhook } from '../types';

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
  return (
    <div className="rounded-md bg-amber-50 p-3 text-sm dark:bg-amber-950/40" role="status">
      <p className="mb-1 font-medium">{label} — shown only now:</p>
      <div className="flex items-center gap-2">
        <code className="flex-1 font-mono text-xs break-all" data-testid="secret">
          {value}
        </code>
        <Button size="sm" onClick={() => void navigator.clipboard?.writeText(value)} aria-label="Copy">
          <Copy className="size-4" />
        </Button>
      </div>
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
  const [created, setCreated] = useState<Webhook | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  if (error instanceof ApiError && error.status === 404) {
    return (
      <Section title="Webhooks">
        <EmptyState title="Webhooks are not available">This Kai has no webhook settings API (/api/settings/webhooks) yet.</EmptyState>
      </Section>
    );
  }
  const act = async (work: () => Promise<unknown>, done?: string) => {
    setActionError(null);
    setNotice(null);
    try {
      await work();
      if (done) setNotice(done);
      await load();
    } catch (failure) {
      setActionError(failure);
    }
  };
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    await act(async () => {
      setCreated(await api<Webhook>('POST', '/api/settings/webhooks', { url }));
      setUrl('');
    });
    setBusy(false);
  };
  return (
    <Section title="Webhooks" description="Signed (Standard Webhooks) notifications of sandbox lifecycle events.">
      <form className="mb-3 flex gap-2" onSubmit={(event) => void create(event)}>
        <Input aria-label="Webhook URL" placeholder="https://example.com/kai-hook" value={url} onChange={(e) => setUrl(e.target.value)} />
        <Button type="submit" busy={busy} disabled={!url.trim()}>
          <Plus className="size-4" /> Add
        </Button>
      </form>
      <InlineError error={actionError} />
      {notice && <p className="text-sm text-emerald-600">{notice}</p>}
      {created?.secret && <Secret label={`Signing secret for ${created.url}`} value={created.secret} />}
      {!items && !error ? (
        <Spinner />
      ) : !items ? (
        <ErrorState error={error} onRetry={() => void load()} />
      ) : items.length === 0 ? (
        <p className="text-sm text-zinc-500">No webhooks.</p>
      ) : (
        <ul className="mt-2 divide-y divide-zinc-100 dark:divide-zinc-800">
          {items.map((hook) => (
            <li key={hook.id} className="flex flex-wrap items-center gap-2 py-2 text-sm">
              <span className="min-w-0 flex-1 font-mono text-xs break-all">
                {hook.url}
                {!hook.enabled && <span className="ml-2 font-sans text-amber-600">disabled{hook.disabledReason ? `: ${hook.disabledReason}` : ''}</span>}
              </span>
              <label className="flex items-center gap-1 text-xs">
                <input type="checkbox" checked={hook.enabled} onChange={(e) => void act(() => api('PATCH', `/api/settings/webhooks/${hook.id}`, { enabled: e.target.checked }))} /> enabled
              </label>
              <Button size="sm" onClick={() => void act(() => api('POST', `/api/settings/webhooks/${hook.id}/test`), 'Test event queued.')} aria-label={`Send a test to ${hook.url}`}>
                <Send className="size-4" /> Test
              </Button>
              <Button size="sm" variant="ghost" className="text-red-600" aria-label={`Delete webhook ${hook.url}`} onClick={() => setDeleting(hook)}>
                <Trash2 className="size-4" />
              </Button>
            </li>
          ))}
        </ul>
      )}
      <Confirm
        open={deleting !== null}
        onOpenChange={(open) => !open && setDeleting(null)}
        title="Delete this webhook?"
        description={<code className="font-mono text-xs break-all">{deleting?.url}</code>}
        action="Delete webhook"
        onConfirm={async () => {
          await api('DELETE', `/api/settings/webhooks/${deleting!.id}`);
          await load();
        }}
      />
    </Section>
  );
}
