import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AuthConfig } from '../config.js';
import { KaiError } from '../errors.js';
import { ok, responses } from '../http/envelope.js';
import { SESSION_COOKIE } from './guard.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js';
import {
  CreatedToken,
  CreateUserBody,
  LoginBody,
  LoginResult,
  MeResult,
  PasswordBody,
  TokenBody,
  TokenParams,
  TokenRecord,
  UserSchema,
  UsernameParams,
} from './schemas.js';
import type { SessionIssuer } from './session-issuer.js';
import type { AuthStore, Principal } from './store.js';

export interface AuthRoutesOptions {
  store: AuthStore;
  auth: AuthConfig;
  sessions: SessionIssuer;
}

function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new KaiError('UNAUTHORIZED', 'Authentication required');
  return request.principal;
}

const wrongCredentials = () => new KaiError('UNAUTHORIZED', 'Wrong username or password');

export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, { store, auth, sessions }) => {
  const tags = ['auth'];

  app.post(
    '/api/auth/login',
    {
      config: {
        public: true,
        rateLimit: {
          max: auth.loginMaxAttempts,
          timeWindow: auth.loginWindowSeconds * 1000,
          hook: 'preHandler',
          keyGenerator: (request: FastifyRequest) => {
            const body = request.body as { username?: unknown } | undefined;
            return `${request.ip}\u0000${typeof body?.username === 'string' ? body.username.toLowerCase() : ''}`;
          },
        },
      },
      schema: { tags, summary: 'Log in: a session token and an HttpOnly session cookie', body: LoginBody, response: responses(200, LoginResult) },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const user = store.getUser(username);
      // Unknown users are checked against a dummy hash so both failures take the same time.
      const valid = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
      if (!user || !valid) throw wrongCredentials();
      const { session, token } = sessions.start(request, reply, user.username);
      return ok(
        { token, expiresAt: session.expiresAt, csrfToken: session.csrfToken, user: { username: user.username, role: user.role } },
        'Logged in',
      );
    },
  );

  app.post(
    '/api/auth/logout',
    { config: { access: 'self' }, schema: { tags, summary: 'Revoke the current session (token and cookie) at once', response: responses(200, Type.Object({ loggedOut: Type.Boolean() })) } },
    async (request, reply) => {
      const principal = principalOf(request);
      if (principal.sessionId) store.revokeSession(principal.sessionId);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return ok({ loggedOut: principal.sessionId !== undefined }, principal.sessionId ? 'Logged out' : 'API tokens are revoked with DELETE /api/auth/tokens/:id');
    },
  );

  app.get(
    '/api/auth/me',
    { schema: { tags, summary: 'The signed-in user, and the CSRF token of a cookie session', response: responses(200, MeResult) } },
    async (request) => {
      const principal = principalOf(request);
      return ok(
        { user: { username: principal.username, role: principal.role }, via: principal.via, csrfToken: principal.csrfToken ?? null },
        'Current user',
      );
    },
  );

  app.post(
    '/api/auth/tokens',
    { config: { access: 'self' }, schema: { tags, summary: 'Create an API token (shown once) with your role', body: TokenBody, response: responses(201, CreatedToken) } },
    async (request, reply) => {
      const principal = principalOf(request);
      const { name, expiresAt } = request.body;
      if (expiresAt !== undefined && Date.parse(expiresAt) <= Date.now()) {
        throw new KaiError('VALIDATION_ERROR', 'body.expiresAt: must be in the future', { fields: [{ field: 'body.expiresAt', message: 'must be in the future' }] });
      }
      const { token, record } = store.createApiToken(principal.username, name.trim(), expiresAt ? new Date(expiresAt).toISOString() : null);
      return reply.code(201).send(ok({ ...record, token }, 'API token created; it is shown only this once'));
    },
  );

  app.get(
    '/api/auth/tokens',
    { schema: { tags, summary: 'Your API tokens (no secrets)', response: responses(200, Type.Object({ tokens: Type.Array(TokenRecord) })) } },
    async (request) => ok({ tokens: store.listApiTokens(principalOf(request).username) }, 'API tokens retrieved'),
  );

  app.delete(
    '/api/auth/tokens/:id',
    { config: { access: 'self' }, schema: { tags, summary: 'Revoke one of your API tokens', params: TokenParams, response: responses(200, Type.Object({ id: Type.String() })) } },
    async (request) => {
      if (!store.revokeApiToken(request.params.id, principalOf(request).username)) {
        throw new KaiError('NOT_FOUND', `No API token "${request.params.id}"`, { id: request.params.id });
      }
      return ok({ id: request.params.id }, 'API token revoked');
    },
  );

  app.get(
    '/api/users',
    { config: { access: 'admin' }, schema: { tags: ['users'], summary: 'List users (admin)', response: responses(200, Type.Object({ users: Type.Array(UserSchema) })) } },
    async () => ok({ users: store.listUsers() }, 'Users retrieved'),
  );

  app.post(
    '/api/users',
    { config: { access: 'admin' }, schema: { tags: ['users'], summary: 'Create a user (admin)', body: CreateUserBody, response: responses(201, UserSchema) } },
    async (request, reply) => {
      const { username, password, role } = request.body;
      const user = store.createUser(username, role, await hashPassword(password));
      return reply.code(201).send(ok(user, 'User created'));
    },
  );

  app.delete(
    '/api/users/:username',
    {
      config: { access: 'admin' },
      schema: { tags: ['users'], summary: 'Delete a user with their sessions and tokens (admin; not the last admin)', params: UsernameParams, response: responses(200, Type.Object({ username: Type.String() })) },
    },
    async (request) => {
      if (!store.deleteUser(request.params.username)) {
        throw new KaiError('NOT_FOUND', `No user "${request.params.username}"`, { username: request.params.username });
      }
      return ok({ username: request.params.username }, 'User deleted');
    },
  );

  app.put(
    '/api/users/:username/password',
    {
      config: { access: 'self' },
      schema: {
        tags: ['users'],
        summary: "Change a password: your own (oldPassword required; your other sessions end) or, as admin, anyone's (all their sessions end)",
        params: UsernameParams,
        body: PasswordBody,
        response: responses(200, Type.Object({ username: Type.String() })),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { username } = request.params;
      const own = principal.username === username;
      if (!own && principal.role !== 'admin') throw new KaiError('PERMISSION_DENIED', "Only admins may change another user's password");
      const user = store.getUser(username);
      if (!user) throw new KaiError('NOT_FOUND', `No user "${username}"`, { username });
      if (own) {
        const { oldPassword } = request.body;
        if (oldPassword === undefined) {
          throw new KaiError('VALIDATION_ERROR', 'body.oldPassword: is required to change your own password', {
            fields: [{ field: 'body.oldPassword', message: 'is required' }],
          });
        }
        if (!(await verifyPassword(oldPassword, user.passwordHash))) {
          throw new KaiError('PERMISSION_DENIED', 'The old password is wrong', { fields: [{ field: 'body.oldPassword', message: 'is wrong' }] });
        }
      }
      store.setPassword(username, await hashPassword(request.body.password), own ? (principal.sessionId ?? null) : null);
      return ok({ username }, own ? 'Password changed; your other sessions were ended' : 'Password changed; their sessions were ended');
    },
  );
};
