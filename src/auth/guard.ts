import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KaiError } from '../errors.js';
import type { LinkTokens } from './link-tokens.js';
import type { SessionIssuer } from './session-issuer.js';
import { API_TOKEN_PREFIX, type AuthStore, type Principal } from './store.js';

export const SESSION_COOKIE = 'kai_session';
export const CSRF_HEADER = 'x-csrf-token';

/** Who may call a route: any signed-in user (`read`), admins only, or any user acting on their own account (`self`). */
export type Access = 'read' | 'admin' | 'self';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** Accepts a single-use `?token=` link token (new tabs, iframes) and swaps it for the session cookie. */
    linkToken?: boolean;
    /** The route accepts WebSocket upgrades; every other route refuses them. */
    upgrade?: boolean;
    /** Cookie requests need no CSRF header (proxied apps cannot know Kai's token; SameSite=Strict covers them). */
    csrfExempt?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface SessionClaims {
  sub: string;
  sid: string;
}

export interface GuardOptions {
  store: AuthStore;
  verifySessionToken: (token: string) => SessionClaims;
  allowedOrigins: string[];
  linkTokens: LinkTokens;
  sessions: SessionIssuer;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function unauthorized(message = 'Authentication required: send a bearer token, an API token or the session cookie'): KaiError {
  return new KaiError('UNAUTHORIZED', message);
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Kai's own origin as the browser sees it (honours X-Forwarded-* only from trusted proxies). */
export function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

function checkUpgradeOrigin(request: FastifyRequest, allowed: string[]): void {
  const origin = request.headers.origin;
  // Browsers always send Origin on WebSocket handshakes; clients without one are scripts with their own credentials.
  if (origin === undefined) return;
  if (origin === ownOrigin(request) || allowed.includes(origin)) return;
  throw new KaiError('PERMISSION_DENIED', `Origin ${origin} may not open connections to Kai (see KAI_ALLOWED_ORIGINS)`, { origin });
}

/**
 * The one hook every route inherits, upgrades included: resolves the
 * credential to a principal, checks the role and, for cookie sessions,
 * the CSRF header on state-changing requests. Routes marked `config.public`
 * are let through without credentials.
 */
export function registerGuard(app: FastifyInstance, options: GuardOptions): void {
  const authenticate = (request: FastifyRequest): { principal: Principal; byCookie: boolean } => {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
      if (!match?.[1]) throw unauthorized('Malformed Authorization header: expected "Bearer <token>"');
      const principal = match[1].startsWith(API_TOKEN_PREFIX) ? options.store.apiTokenPrincipal(match[1]) : sessionFromJwt(match[1]);
      if (!principal) throw unauthorized('The token is not valid (unknown, expired or revoked)');
      return { principal, byCookie: false };
    }
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie) {
      const principal = sessionFromJwt(cookie);
      if (!principal) throw unauthorized('The session is not valid (expired or logged out); log in again');
      return { principal, byCookie: true };
    }
    throw unauthorized();
  };

  const sessionFromJwt = (token: string): Principal | undefined => {
    let claims: SessionClaims;
    try {
      claims = options.verifySessionToken(token);
    } catch {
      return undefined;
    }
    const principal = options.store.sessionPrincipal(claims.sid);
    return principal && principal.username === claims.sub ? principal : undefined;
  };

  /** Swaps a link token for a session cookie and sends the browser to the same URL without the token. */
  const exchangeLinkToken = (request: FastifyRequest, reply: FastifyReply, token: string): FastifyReply => {
    const url = new URL(request.url, 'http://kai.invalid');
    const username = options.linkTokens.consume(token, url.pathname);
    if (!username) throw unauthorized('This link has expired or was already used; open it again from Kai');
    options.sessions.start(request, reply, username);
    url.searchParams.delete('token');
    return reply.redirect(`${url.pathname}${url.search}`, 302);
  };

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (request.headers.upgrade !== undefined) {
      checkUpgradeOrigin(request, options.allowedOrigins);
      if (!config.upgrade) {
        throw new KaiError('VALIDATION_ERROR', 'This route does not accept WebSocket upgrades', { fields: [{ field: 'headers.upgrade', message: 'is not accepted here' }] });
      }
    }
    if (config.public) return;
    const linkToken = (request.query as Record<string, unknown> | undefined)?.token;
    if (config.linkToken && typeof linkToken === 'string' && request.headers.upgrade === undefined) {
      return exchangeLinkToken(request, reply, linkToken);
    }

    const { principal, byCookie } = authenticate(request);
    request.principal = principal;

    const safe = SAFE_METHODS.has(request.method);
    const access: Access = config.access ?? (safe ? 'read' : 'admin');
    if (access === 'admin' && principal.role !== 'admin') {
      throw new KaiError('PERMISSION_DENIED', 'This action needs the admin role', { role: principal.role });
    }
    if (byCookie && !safe && !config.csrfExempt) {
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !principal.csrfToken || !sameSecret(sent, principal.csrfToken)) {
        throw new KaiError('PERMISSION_DENIED', `Missing or wrong CSRF token: send the ${CSRF_HEADER} header from login or /api/auth/me`);
      }
    }
  });
}
