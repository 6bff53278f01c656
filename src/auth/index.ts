import cookie from '@fastify/cookie';
import jwt from '@fastify/jwt';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { KaiError } from '../errors.js';
import { registerGuard, type SessionClaims } from './guard.js';
import { LinkTokens } from './link-tokens.js';
import { authRoutes } from './routes.js';
import { SessionIssuer } from './session-issuer.js';
import { loadSigningSecret } from './secret.js';
import type { AuthStore } from './store.js';

/**
 * Everything about who may call Kai: cookie parsing, session tokens, the
 * login rate limit, the guard hook every route inherits, and the auth and
 * user routes. Called on the root instance so the guard covers all routes.
 */
export async function registerAuth(app: FastifyInstance, config: Config, store: AuthStore): Promise<{ linkTokens: LinkTokens }> {
  const secret = loadSigningSecret(config.dataDir, config.auth.jwtSecret);
  await app.register(cookie);
  await app.register(jwt, { secret, sign: { algorithm: 'HS256' }, verify: { algorithms: ['HS256'] } });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new KaiError('RATE_LIMITED', `Too many login attempts; try again in ${context.after}`, { retryAfterSeconds: Math.ceil(context.ttl / 1000) }, 429),
  });

  const sessions = new SessionIssuer(store, (claims, ttlSeconds) => app.jwt.sign(claims, { expiresIn: ttlSeconds }), config.auth.sessionTtlSeconds);
  const linkTokens = new LinkTokens();
  registerGuard(app, {
    store,
    verifySessionToken: (token) => app.jwt.verify<SessionClaims>(token),
    allowedOrigins: config.auth.allowedOrigins,
    linkTokens,
    sessions,
  });

  await app.register(authRoutes, { store, auth: config.auth, sessions });
  return { linkTokens };
}
