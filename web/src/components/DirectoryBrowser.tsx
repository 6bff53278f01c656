import { ChevronRight, CornerLeftUp, Folder, FolderCheck, Home } from 'lucide-react';
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api';
import type { DirectoryListing } from '../types';
import { Button, cn, ErrorState, Spinner } from './ui';

/** Browses folders under KAI_HOST_ROOT (Kai refuses anything above it); `onSelect` gets the chosen real path. */
export function DirectoryBrowser({ value, onSelect }: { value: string | null; onSelect: (path: string) => void }) {
  const [listing, setListing] = useState<DirectoryListing | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);

  const open = useCallback(async (currentPath?: string) => {
    setLoading(true);
    setError(null);
    try {
      setListing(await api<DirectoryListing>('POST', '/api/host/directories', currentPath ? { currentPath } : {}));
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void open();
  }, [open]);

  const crumbs = listing ? breadcrumbs(listing.root, listing.path) : [];
  return (
    <div className="rounded-md border border-zinc-300 dark:border-zinc-700" data-testid="directory-browser">
      <div className="flex flex-wrap items-center gap-1 border-b border-zinc-200 px-2 py-1.5 text-sm dark:border-zinc-800">
        <Button type="button" size="icon" variant="ghost" aria-label="Up one folder" disabled={!listing?.parent || loading} onClick={() => listing?.parent && void open(listing.parent)}>
          <CornerLeftUp className="size-4" />
        </Button>
        <nav aria-label="Folder path" className="flex min-w-0 flex-1 flex-wrap items-center">
          {crumbs.map((crumb, index) => (
            <span key={crumb.path} className="flex items-center">
              {index > 0 && <ChevronRight className="size-3.5 text-zinc-400" aria-hidden />}
              <button type="button" className="max-w-40 truncate rounded px-1 py-0.5 hover:bg-zinc-100 dark:hover:bg-zinc-800" onClick={() => void open(crumb.path)}>
                {index === 0 ? <Home className="inline size-3.5" aria-label={`Root ${crumb.path}`} /> : crumb.name}
              </button>
            </span>
          ))}
        </nav>
        {listing && (
          <Button type="button" size="sm" variant={value === listing.path ? 'primary' : 'secondary'} onClick={() => onSelect(listing.path)}>
            <FolderCheck className="size-4" /> Use this folder
          </Button>
        )}
      </div>
      <div className="max-h-56 overflow-y-auto">
        {loading ? (
          <Spinner />
        ) : error ? (
          <ErrorState error={error} title="Could not list the folder" onRetry={() => void open(listing?.path)} />
        ) : listing && listing.directories.length === 0 ? (
          <p className="p-4 text-center text-sm text-zinc-500">No folders here{listing.files.length ? ` (${listing.files.length} files)` : ''}.</p>
        ) : (
          <ul>
            {listing?.directories.map((dir) => (
              <li key={dir.path}>
                <button
                  type="button"
                  className={cn('flex w-full items-center gap-2 px-3 py-1.5 text-left text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800', value === dir.path && 'bg-indigo-50 dark:bg-indigo-950/40')}
                  onClick={() => void open(dir.path)}
                >
                  <Folder className="size-4 text-indigo-500" aria-hidden /> {dir.name}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      <p className="border-t border-zinc-200 px-3 py-1.5 text-xs text-zinc-500 dark:border-zinc-800">
        Selected: <span className="font-mono" data-testid="selected-folder">{value ?? 'none'}</span>
      </p>
    </div>
  );
}

function breadcrumbs(root: string, current: string): { name: string; path: string }[] {
  const crumbs = [{ name: root, path: root }];
  const rest = current.startsWith(root) ? current.slice(root.length) : '';
  let path = root;
  for (const part of rest.split('/').filter(Boolean)) {
    path = `${path.replace(/\/$/, '')}/${part}`;
    crumbs.push({ name: part, path });
  }
  return crumbs;
}
