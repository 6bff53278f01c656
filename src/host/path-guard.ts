import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { KaiError, validationError } from '../errors.js';

/** Longest path Kai accepts; Linux's PATH_MAX. */
export const MAX_PATH_LENGTH = 4096;

export function isInside(root: string, candidate: string): boolean {
  // root + separator, never a bare prefix: /home/al must not admit /home/alice.
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function denied(field: string, requested: string): KaiError {
  return new KaiError('PERMISSION_DENIED', `${field}: "${requested}" is outside the folder Kai may use`, {
    fields: [{ field, message: 'is outside KAI_HOST_ROOT' }],
  });
}

/**
 * Confines a client-supplied host path to `root` (already a real path).
 * Malformed input is a 400; a path that leaves the root, by `..` or through a
 * symlink, is a 403; a missing one is a 404; a file where a folder is needed
 * is a 400. Returns the real path, which is what must be used from then on.
 */
export async function confineDirectory(root: string, requested: string, field: string): Promise<string> {
  if (requested.includes('\0')) throw validationError(field, 'must not contain NUL bytes');
  if (requested.length > MAX_PATH_LENGTH) throw validationError(field, `must be at most ${MAX_PATH_LENGTH} characters`);
  if (!path.isAbsolute(requested)) throw validationError(field, 'must be an absolute path');

  // Lexical check first, so nothing is learnt about folders outside the root (not even whether they exist).
  const lexical = path.resolve(requested);
  if (!isInside(root, lexical)) throw denied(field, requested);

  let real: string;
  try {
    real = await realpath(lexical);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new KaiError('NOT_FOUND', `${field}: "${requested}" does not exist`, {
        fields: [{ field, message: 'does not exist' }],
      });
    }
    if (code === 'EACCES' || code === 'EPERM') throw denied(field, requested);
    if (code === 'ELOOP' || code === 'ENAMETOOLONG') throw validationError(field, 'cannot be resolved');
    throw error;
  }
  if (!isInside(root, real)) throw denied(field, requested);

  const info = await stat(real);
  if (!info.isDirectory()) throw validationError(field, 'is not a directory');
  return real;
}
