import { Play, RotateCw, Square, SquareTerminal, Trash2 } from 'lucide-react';
import { useState } from 'react';
import { api } from '../api';
import { navigate } from '../router';
import type { FlexySummary } from '../types';
import { Button, Confirm } from './ui';

export type Action = 'start' | 'stop' | 'restart';

/** Start/stop/restart/delete for one sandbox, with progress; errors go to `onError`, results to `onDone`. */
export function SandboxActions({ sandbox, onDone, onError, compact }: { sandbox: FlexySummary; onDone: (action: Action | 'delete') => void; onError: (error: unknown) => void; compact?: boolean }) {
  const [busy, setBusy] = useState<Action | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const running = sandbox.status === 'running' || sandbox.status === 'restarting' || sandbox.status === 'starting';

  const run = async (action: Action) => {
    setBusy(action);
    try {
      await api('POST', `/api/flexy/${encodeURIComponent(sandbox.id)}/${action}`);
      onDone(action);
    } catch (error) {
      onError(error);
    } finally {
      setBusy(null);
    }
  };

  const label = (text: string) => (compact ? <span className="sr-only">{text}</span> : <span className="hidden lg:inline">{text}</span>);
  return (
    <div className="flex flex-wrap justify-end gap-1">
      <Button size="sm" variant="ghost" aria-label={`Open terminal of ${sandbox.name}`} title="Terminal" disabled={!running} onClick={() => navigate(`/sandboxes/${encodeURIComponent(sandbox.name)}?tab=terminal`)}>
        <SquareTerminal className="size-4" />
        {label('Terminal')}
      </Button>
      {running ? (
        <Button size="sm" variant="ghost" aria-label={`Stop ${sandbox.name}`} title="Stop" busy={busy === 'stop'} disabled={busy !== null} onClick={() => void run('stop')}>
          {busy !== 'stop' && <Square className="size-4" />}
          {label('Stop')}
        </Button>
      ) : (
        <Button size="sm" variant="ghost" aria-label={`Start ${sandbox.name}`} title="Start" busy={busy === 'start'} disabled={busy !== null} onClick={() => void run('start')}>
          {busy !== 'start' && <Play className="size-4" />}
          {label('Start')}
        </Button>
      )}
      <Button size="sm" variant="ghost" aria-label={`Restart ${sandbox.name}`} title="Restart" busy={busy === 'restart'} disabled={busy !== null} onClick={() => void run('restart')}>
        {busy !== 'restart' && <RotateCw className="size-4" />}
        {label('Restart')}
      </Button>
      <Button size="sm" variant="ghost" className="text-red-600 dark:text-red-400" aria-label={`Delete ${sandbox.name}`} title="Delete" disabled={busy !== null} onClick={() => setConfirmDelete(true)}>
        <Trash2 className="size-4" />
        {label('Delete')}
      </Button>
      <Confirm
        open={confirmDelete}
        onOpenChange={setConfirmDelete}
        title={`Delete sandbox "${sandbox.name}"?`}
        description={
          <>
            The container <strong>{sandbox.name}</strong> is removed, even if it is running. The project folder{' '}
            {sandbox.hostPath ? <code className="font-mono">{sandbox.hostPath}</code> : ''} stays on disk.
          </>
        }
        action={`Delete ${sandbox.name}`}
        onConfirm={async () => {
          await api('DELETE', `/api/flexy/${encodeURIComponent(sandbox.id)}`);
          onDone('delete');
        }}
      />
    </div>
  );
}
