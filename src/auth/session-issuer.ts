import type { FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from './guard.js';
import type { AuthStore, Session } from './store.js';

export type SignSessionToken = (claims: { sub: string; sid: string }, ttlSeconds: number) => string;

/** Starts a server-side session for a user and hands it to the browser as the session cookie. */
export class SessionIssuer {
  constructor(
    private readonly store: AuthStore,
    private readonly sign: SignSessionToken,
    private readonly ttlSeconds: number,
  ) {}

  start(request: FastifyRequest, reply: FastifyReply, username: string): { session: Session; token: string } {
    const session = this.store.createSession(username, this.ttlSeconds);
    const token = this.sign({ sub: username, sid: session.id }, this.ttlSeconds);
    reply.setCookie(SESSION_COOKIE, token, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      // request.protocol honours X-Forwarded-Proto only from proxies trusted by KAI_TRUST_PROXY.
      secure: request.protocol === 'https',
      maxAge: this.ttlSeconds,
    });
    return { session, token };
  }
}
