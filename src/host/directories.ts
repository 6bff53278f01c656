import { opendir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { KaiError } from '../errors.js';
import { confineDirectory, isInside } from './path-guard.js';

export interface DirectoryEntry {
  name: string;
  path: string;
  modified: string;
}

export interface FileEntry extends DirectoryEntry {
  size: number;
}

export interface DirectoryListing {
  path: string;
  parent: string | null;
  root: string;
  directories: DirectoryEntry[];
  files: FileEntry[];
}

/** stat() calls in flight at once; enough to keep libuv's pool busy without queueing thousands. */
const STAT_CONCURRENCY = 64;

type Entry = { kind: 'directory'; entry: DirectoryEntry } | { kind: 'file'; entry: FileEntry } | undefined;

async function describeEntry(root: string, folder: string, name: string, isSymlink: boolean): Promise<Entry> {
  const full = path.join(folder, name);
  try {
    if (isSymlink) {
      // A link is shown only where it leads inside the root; elsewhere it could not be opened anyway.
      const target = await realpath(full);
      if (!isInside(root, target)) return undefined;
    }
    const info = await stat(full);
    const modified = info.mtime.toISOString();
    if (info.isDirectory()) return { kind: 'directory', entry: { name, path: full, modified } };
    if (info.isFile()) return { kind: 'file', entry: { name, path: full, modified, size: info.size } };
    return undefined; // sockets, fifos, devices: nothing a user picks as a project
  } catch {
    return undefined; // unreadable or vanished while listing: skip it, the rest still helps
  }
}

async function openFolder(folder: string) {
  try {
    return await opendir(folder, { bufferSize: 256 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new KaiError('PERMISSION_DENIED', `Kai may not read "${folder}"`, {
        fields: [{ field: 'body.currentPath', message: 'is not readable' }],
      });
    }
    throw error;
  }
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export async function listDirectory(root: string, requested: string | undefined): Promise<DirectoryListing> {
  const folder = requested === undefined ? root : await confineDirectory(root, requested, 'body.currentPath');
  const names: Array<{ name: string; isSymlink: boolean }> = [];
  const handle = await openFolder(folder);
  for await (const dirent of handle) names.push({ name: dirent.name, isSymlink: dirent.isSymbolicLink() });

  const directories: DirectoryEntry[] = [];
  const files: FileEntry[] = [];
  for (let index = 0; index < names.length; index += STAT_CONCURRENCY) {
    const batch = names.slice(index, index + STAT_CONCURRENCY);
    const described = await Promise.all(batch.map((item) => describeEntry(root, folder, item.name, item.isSymlink)));
    for (const item of described) {
      if (item?.kind === 'directory') directories.push(item.entry);
      else if (item?.kind === 'file') files.push(item.entry);
    }
  }
  directories.sort(byName);
  files.sort(byName);
  return {
    path: folder,
    parent: folder === root ? null : path.dirname(folder),
    root,
    directories,
    files,
  };
}
