import { Plus, Trash2 } from 'lucide-react';
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import type { CreateFlexy, FlexyDetails } from '../types';
import { DirectoryBrowser } from './DirectoryBrowser';
import { NodePicker } from './NodePicker';
import { Button, Dialog, Field, Input, InlineError } from './ui';

export function CreateSandboxDialog({ open, onOpenChange, onCreated }: { open: boolean; onOpenChange: (open: boolean) => void; onCreated: (created: FlexyDetails) => void }) {
  const [name, setName] = useState('');
  const [image, setImage] = useState('');
  const [hostPath, setHostPath] = useState<string | null>(null);
  const [containerPath, setContainerPath] = useState('');
  const [env, setEnv] = useState<{ key: string; value: string }[]>([]);
  const [start, setStart] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [node, setNode] = useState('');

  const reset = () => {
    setName('');
    setImage('');
    setHostPath(null);
    setContainerPath('');
    setEnv([]);
    setStart(true);
    setNode('');
    setError(null);
    setFields({});
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    const body: CreateFlexy = { name: name.trim(), start };
    if (image.trim()) body.image = image.trim();
    if (hostPath) body.hostPath = hostPath;
    if (containerPath.trim()) body.containerPath = containerPath.trim();
    if (node) body.node = node;
    const filled = env.filter((pair) => pair.key.trim() !== '');
    if (filled.length) body.env = Object.fromEntries(filled.map((pair) => [pair.key.trim(), pair.value]));
    try {
      const created = await api<FlexyDetails>('POST', '/api/flexy', body);
      reset();
      onOpenChange(false);
      onCreated(created);
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'VALIDATION_ERROR') setFields(failure.fieldErrors());
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const envError = Object.entries(fields).find(([field]) => field.startsWith('env'))?.[1];
  return (
    <Dialog open={open} onOpenChange={(next) => !busy && onOpenChange(next)} title="New sandbox" description="A Flexy container with a project folder mounted" wide>
      <form onSubmit={(event) => void submit(event)} className="space-y-4" noValidate>
        <Field label="Name" htmlFor="sandbox-name" error={fields.name} hint="2-64 characters: letters, digits, _ . -">
          <Input id="sandbox-name" value={name} onChange={(e) => setName(e.target.value)} required aria-invalid={!!fields.name} placeholder="my-project" autoFocus />
        </Field>
        <Field label="Image" htmlFor="sandbox-image" error={fields.image} hint="Empty: Kai's default image (IMAGE_NAME, normally flexy-dev-sandbox:latest)">
          <Input id="sandbox-image" value={image} onChange={(e) => setImage(e.target.value)} aria-invalid={!!fields.image} placeholder="flexy-dev-sandbox:latest (default)" />
        </Field>
        <div className="space-y-1">
          <span className="block text-sm font-medium">Project folder</span>
          <DirectoryBrowser value={hostPath} onSelect={setHostPath} />
          {fields.hostPath && (
            <p className="text-sm text-red-600 dark:text-red-400" role="alert">
              {fields.hostPath}
            </p>
          )}
          {hostPath && (
            <Button type="button" size="sm" variant="ghost" onClick={() => setHostPath(null)}>
              No folder
            </Button>
          )}
        </div>
        <Field label="Container path" htmlFor="sandbox-container-path" error={fields.containerPath} hint="Where the folder appears inside; default /workspace">
          <Input id="sandbox-container-path" value={containerPath} onChange={(e) => setContainerPath(e.target.value)} aria-invalid={!!fields.containerPath} placeholder="/workspace" />
        </Field>
        <NodePicker id="sandbox-node" open={open} value={node} onChange={setNode} error={fields.node} hint="The machine that holds the project folder; Any lets the cluster place it" />
        <fieldset className="space-y-2">
          <legend className="text-sm font-medium">Environment</legend>
          {env.map((pair, index) => (
            <div key={index} className="flex gap-2">
              <Input aria-label={`Variable ${index + 1} name`} placeholder="NAME" className="font-mono" value={pair.key} onChange={(e) => setEnv(env.map((p, i) => (i === index ? { ...p, key: e.target.value } : p)))} />
              <Input aria-label={`Variable ${index + 1} value`} placeholder="value" value={pair.value} onChange={(e) => setEnv(env.map((p, i) => (i === index ? { ...p, value: e.target.value } : p)))} />
              <Button type="button" size="icon" variant="ghost" aria-label={`Remove variable ${index + 1}`} onClick={() => setEnv(env.filter((_, i) => i !== index))}>
                <Trash2 className="size-4" />
              </Button>
            </div>
          ))}
          {envError && (
            <p className="text-sm text-red-600 dark:text-red-400" role="alert">
              {envError}
            </p>
          )}
          <Button type="button" size="sm" onClick={() => setEnv([...env, { key: '', value: '' }])}>
            <Plus className="size-4" /> Add variable
          </Button>
        </fieldset>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={start} onChange={(e) => setStart(e.target.checked)} className="size-4" /> Start now
        </label>
        <InlineError error={error} />
        <div className="flex justify-end gap-2">
          <Button type="button" onClick={() => onOpenChange(false)} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={busy}>
            {busy ? 'Creating…' : 'Create sandbox'}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
