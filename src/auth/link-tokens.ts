import { createHash, randomBytes } from 'node:crypto';

/** How long a shell link may wait to be opened. */
export const LINK_TOKEN_TTL_SECONDS = 60;

interface PendingLink {
  username: string;
  pathPrefix: string;
  expiresAt: number;
}

const keyOf = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Short-lived, single-use tokens for links that open in a new tab or an
 * iframe (where no Authorization header can be sent). Kai swaps one for a
 * session cookie and redirects to the same URL without it. In memory only:
 * a restart simply invalidates links nobody has opened yet.
 */
export class LinkTokens {
  private readonly pending = new Map<string, PendingLink>();

  issue(username: string, pathPrefix: string): { token: string; expiresAt: string } {
    this.sweep();
    const token = randomBytes(24).toString('base64url');
    const expiresAt = Date.now() + LINK_TOKEN_TTL_SECONDS * 1000;
    this.pending.set(keyOf(token), { username, pathPrefix, expiresAt });
    return { token, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** The user the token was issued to, if it is valid for this path; it can never be used again. */
  consume(token: string, path: string): string | undefined {
    const key = keyOf(token);
    const link = this.pending.get(key);
    this.pending.delete(key);
    if (!link || link.expiresAt < Date.now() || !path.startsWith(link.pathPrefix)) return undefined;
    return link.username;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, link] of this.pending) if (link.expiresAt < now) this.pending.delete(key);
  }
}
