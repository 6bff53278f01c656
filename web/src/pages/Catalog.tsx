import { ExternalLink, Plus, Rocket, Trash2 } from 'lucide-react';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { DirectoryBrowser } from '../components/DirectoryBrowser';
import { NodePicker } from '../components/NodePicker';
import { Button, Card, Confirm, Dialog, EmptyState, ErrorState, Field, formatTime, InlineError, Input, Spinner } from '../components/ui';
import { Link } from '../router';
import { useSession } from '../session';
import type { AddCatalogItem, CatalogItem, LaunchResult } from '../types';

export function CatalogPage() {
  const { user } = useSession();
  const admin = user?.role === 'admin';
  const [items, setItems] = useState<CatalogItem[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<CatalogItem | null>(null);
  const [launching, setLaunching] = useState<string | null>(null);
  const [launched, setLaunched] = useState<Record<string, string>>({});

  const load = useCallback(async () => {
    try {
      setItems((await api<{ items: CatalogItem[] }>('GET', '/api/catalog/flexy')).items);
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const launch = async (item: CatalogItem) => {
    setLaunching(item.id);
    setActionError(null);
    try {
      const result = await api<LaunchResult>('POST', `/api/catalog/flexy/${item.id}/launch`);
      setLaunched((current) => ({ ...current, [item.id]: result.container.name }));
      await load();
    } catch (failure) {
      setActionError(failure);
    } finally {
      setLaunching(null);
    }
  };

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-2">
        <h1 className="mr-auto text-2xl font-semibold">Catalog</h1>
        {admin && (
          <Button variant="primary" onClick={() => setAdding(true)}>
            <Plus className="size-4" /> Add project
          </Button>
        )}
      </div>
      <InlineError error={actionError} />
      <Card>
        {!items && !error ? (
          <Spinner label="Loading the catalog…" />
        ) : !items ? (
          <ErrorState error={error} title="Could not load the catalog" onRetry={() => void load()} />
        ) : items.length === 0 ? (
          <EmptyState title="The catalog is empty">{admin && 'Add a project folder to launch sandboxes from it in one click.'}</EmptyState>
        ) : (
          <ul>
            {items.map((item) => (
              <li key={item.id} data-testid={`catalog-item-${item.name}`} className="flex flex-col gap-2 border-b border-zinc-100 p-3 last:border-0 sm:flex-row sm:items-center dark:border-zinc-800">
                <div className="min-w-0 flex-1">
                  <p className="font-medium">{item.name}</p>
                  <p className="font-mono text-xs break-all text-zinc-500">
                    {item.hostPath}
                    {item.node && <span className="font-sans"> · on {item.node}</span>}
                  </p>
                  <p className="text-xs text-zinc-400">Added {formatTime(item.createdAt)}</p>
                </div>
                <div className="flex flex-wrap gap-1">
                  {item.containerId && (
                    <Link
                      to={`/sandboxes/${encodeURIComponent(launched[item.id] ?? item.containerId)}`}
                      className="inline-flex h-8 items-center gap-1.5 rounded-md px-2.5 text-sm font-medium hover:bg-zinc-200/70 dark:hover:bg-zinc-800"
                    >
                      <ExternalLink className="size-4" /> Open sandbox
                    </Link>
                  )}
                  {admin && (
                    <>
                      <Button size="sm" variant="primary" busy={launching === item.id} onClick={() => void launch(item)} aria-label={`Launch ${item.name}`}>
                        {launching !== item.id && <Rocket className="size-4" />} Launch
                      </Button>
                      <Button size="sm" variant="ghost" className="text-red-600 dark:text-red-400" onClick={() => setRemoving(item)} aria-label={`Remove ${item.name}`}>
                        <Trash2 className="size-4" /> Remove
                      </Button>
                    </>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <AddDialog open={adding} onOpenChange={setAdding} onAdded={() => void load()} />
      <Confirm
        open={removing !== null}
        onOpenChange={(open) => !open && setRemoving(null)}
        title={`Remove "${removing?.name ?? ''}" from the catalog?`}
        description="Only the catalog entry goes: its sandbox (if any) and the folder stay."
        action={`Remove ${removing?.name ?? ''}`}
        onConfirm={async () => {
          if (!removing) return;
          await api('DELETE', `/api/catalog/flexy/${removing.id}`);
          await load();
        }}
      />
    </div>
  );
}

function AddDialog({ open, onOpenChange, onAdded }: { open: boolean; onOpenChange: (open: boolean) => void; onAdded: () => void }) {
  const [name, setName] = useState('');
  const [hostPath, setHostPath] = useState<string | null>(null);
  const [node, setNode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fields, setFields] = useState<Record<string, string>>({});

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    try {
      const body: AddCatalogItem = { name: name.trim(), hostPath: hostPath ?? '' };
      if (node) body.node = node;
      if (!hostPath) throw new ApiError(400, 'VALIDATION_ERROR', 'Pick a project folder', { fields: [{ field: 'body.hostPath', message: 'pick a folder' }] });
      await api<CatalogItem>('POST', '/api/catalog/flexy', body);
      setName('');
      setHostPath(null);
      setNode('');
      onOpenChange(false);
      onAdded();
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'VALIDATION_ERROR') setFields(failure.fieldErrors());
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onOpenChange={(next) => !busy && onOpenChange(next)} title="Add a project" description="A folder you launch sandboxes from" wide>
      <form onSubmit={(event) => void submit(event)} className="space-y-4" noValidate>
        <Field label="Name" htmlFor="catalog-name" error={fields.name}>
          <Input id="catalog-name" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!fields.name} autoFocus />
        </Field>
        <div className="space-y-1">
          <span className="block text-sm font-medium">Folder</span>
          <DirectoryBrowser value={hostPath} onSelect={setHostPath} />
          {fields.hostPath && (
            <p className="text-sm text-red-600 dark:text-red-400" role="alert">
              {fields.hostPath}
            </p>
          )}
        </div>
        <NodePicker id="catalog-node" open={open} value={node} onChange={setNode} error={fields.node} hint="The machine that holds the folder; its sandboxes always run there" />
        <InlineError error={error} />
        <div className="flex justify-end gap-2">
          <Button type="button" onClick={() => onOpenChange(false)} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={busy}>
            Add to catalog
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
