import { useEffect, useState } from 'react';
import { api } from '../api';
import type { ClusterNode } from '../types';
import { Field } from './ui';

/**
 * On a Swarm, the machine that holds the project folder: sandboxes are pinned
 * there. Shows nothing on a single engine (one node: nothing to choose).
 */
export function NodePicker({ id, open, value, onChange, error, hint }: { id: string; open: boolean; value: string; onChange: (node: string) => void; error?: string | undefined; hint: string }) {
  const [nodes, setNodes] = useState<ClusterNode[]>([]);

  useEffect(() => {
    if (!open) return;
    let current = true;
    api<{ nodes: ClusterNode[] }>('GET', '/api/nodes', undefined, { quiet401: true })
      .then((data) => current && setNodes(data.nodes))
      .catch(() => current && setNodes([]));
    return () => {
      current = false;
    };
  }, [open]);

  if (nodes.length < 2) return null;
  // Hostnames read better (and are what the catalog shows); two nodes with one hostname need the id.
  const shared = new Set(nodes.map((node) => node.hostname).filter((hostname, index, all) => all.indexOf(hostname) !== index));
  return (
    <Field label="Node" htmlFor={id} error={error} hint={hint}>
      <select
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        className="h-9 w-full rounded-md border border-zinc-300 bg-white px-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
      >
        <option value="">Any</option>
        {nodes.map((node) => (
          <option key={node.id} value={shared.has(node.hostname) ? node.id : node.hostname} disabled={node.state !== 'ready'}>
            {node.hostname} ({node.role}, {node.state === 'ready' ? `${node.sandboxes} running` : node.state})
          </option>
        ))}
      </select>
    </Field>
  );
}
