import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiRequest, startKai, type ApiResponse, type TestKai } from './support/kai.js';

interface Operation {
  method: string;
  route: string;
  access: string;
}

/** Every operation /openapi.json lists, with concrete paths, so new routes are covered without editing this test. */
async function operations(kai: TestKai): Promise<Operation[]> {
  const doc = (await kai.anonymous('GET', '/openapi.json')).body;
  const result: Operation[] = [];
  for (const [route, methods] of Object.entries<Record<string, { 'x-kai-access': string }>>(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      result.push({ method: method.toUpperCase(), route: route.replace(/\{[^}]+\}/g, 'x'), access: operation['x-kai-access'] });
    }
  }
  return result;
}

function assertUnauthorized(response: ApiResponse, what: string) {
  assert.equal(response.status, 401, `${what}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.success, false);
  assert.equal(response.body.error.code, 'UNAUTHORIZED', what);
}

/** A JWT with the right shape and claims, signed with the wrong key. */
function forge(realToken: string): string {
  const [header, payload] = realToken.split('.');
  const signature = createHmac('sha256', 'not-the-secret-not-the-secret-not-the-secret').update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

function upgradeRequest(url: string, route: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}${route}`, {
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        origin,
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 101);
    });
    request.on('error', reject);
    request.end();
  });
}

describe('Authentication and access control', () => {
  let kai: TestKai;
  let viewer: { token: string };

  before(async () => {
    kai = await startKai({ KAI_ALLOWED_ORIGINS: 'https://console.example.com' });
    const created = await kai.request('POST', '/api/users', { username: 'vera', password: 'viewer-password', role: 'viewer' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    viewer = await kai.login('vera', 'viewer-password');
  });
  after(async () => kai.close());

  it('refuses every non-public route without credentials, with a forged, a malformed, a logged-out or an unknown token', async () => {
    const ops = await operations(kai);
    assert.ok(ops.length >= 20, `only ${ops.length} operations listed`);
    const session = await kai.login('admin', kai.admin.password);
    const loggedOut = await kai.login('admin', kai.admin.password);
    assert.equal((await kai.request('POST', '/api/auth/logout', undefined, { authorization: `Bearer ${loggedOut.token}` })).status, 200);

    const credentials: Array<[string, Record<string, string>]> = [
      ['none', {}],
      ['forged', { authorization: `Bearer ${forge(session.token)}` }],
      ['logged out', { authorization: `Bearer ${loggedOut.token}` }],
      ['logged-out cookie', { cookie: loggedOut.cookie }],
      ['malformed', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
      ['garbage', { authorization: 'Bearer not.a.jwt' }],
      ['unknown api token', { authorization: 'Bearer kai_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }],
      ['forged cookie', { cookie: `kai_session=${forge(session.token)}` }],
    ];
    let checked = 0;
    for (const op of ops.filter((o) => o.access !== 'public')) {
      for (const [what, headers] of credentials) {
        assertUnauthorized(await apiRequest(kai.url, op.method, op.route, op.method === 'GET' || op.method === 'DELETE' ? undefined : {}, headers), `${what} ${op.method} ${op.route}`);
        checked++;
      }
    }
    assert.ok(checked > 100);
  });

  it('expired session tokens are refused', async () => {
    const shortKai = await startKai({ KAI_SESSION_TTL: '1s' });
    try {
      const ops = (await operations(shortKai)).filter((o) => o.access !== 'public');
      await new Promise((resolve) => setTimeout(resolve, 2100));
      for (const op of ops) {
        assertUnauthorized(await shortKai.request(op.method, op.route), `expired ${op.method} ${op.route}`);
      }
    } finally {
      await shortKai.close();
    }
  });

  it('keeps the public routes open', async () => {
    assert.equal((await kai.anonymous('GET', '/api/health')).status, 200);
    assert.equal((await kai.anonymous('GET', '/api/ready')).status, 200);
    assert.equal((await kai.anonymous('GET', '/openapi.json')).status, 200);
    const login = await kai.anonymous('POST', '/api/auth/login', { username: 'admin', password: kai.admin.password });
    assert.equal(login.status, 200);
    const publicOps = (await operations(kai)).filter((o) => o.access === 'public').map((o) => `${o.method} ${o.route}`).sort();
    assert.deepEqual(publicOps, ['GET /api/health', 'GET /api/ready', 'POST /api/auth/login']);
  });

  it('lets a viewer read and answers 403 on every state-changing route', async () => {
    const as = (method: string, route: string, body?: unknown) => apiRequest(kai.url, method, route, body, { authorization: `Bearer ${viewer.token}` });
    assert.equal((await as('GET', '/api/flexy')).status, 200);
    assert.equal((await as('GET', '/api/catalog/flexy')).status, 200);
    assert.equal((await as('POST', '/api/host/directories')).status, 200, 'browsing reads, though it is a POST');
    assert.equal((await as('GET', '/api/auth/me')).body.data.user.role, 'viewer');

    const stateChanging = (await operations(kai)).filter((o) => o.access === 'admin');
    assert.ok(stateChanging.length >= 11, `only ${stateChanging.length} admin operations`);
    for (const op of stateChanging) {
      const response = await as(op.method, op.route, op.method === 'GET' || op.method === 'DELETE' ? undefined : {});
      assert.equal(response.status, 403, `viewer ${op.method} ${op.route}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error.code, 'PERMISSION_DENIED');
    }
    // Every state-changing route is admin-only except the user's own account actions.
    for (const op of (await operations(kai)).filter((o) => o.method !== 'GET' && o.access !== 'admin' && o.access !== 'public')) {
      assert.ok(
        ['POST /api/auth/logout', 'POST /api/auth/tokens', 'DELETE /api/auth/tokens/x', 'PUT /api/users/x/password', 'POST /api/host/directories'].includes(`${op.method} ${op.route}`),
        `${op.method} ${op.route} is open to viewers`,
      );
    }
  });

  it('login sets an HttpOnly SameSite=Strict cookie and returns token, expiry, CSRF token and user', async () => {
    const response = await kai.anonymous('POST', '/api/auth/login', { username: 'admin', password: kai.admin.password });
    assert.equal(response.status, 200);
    const data = response.body.data;
    assert.equal(typeof data.token, 'string');
    assert.equal(typeof data.csrfToken, 'string');
    assert.deepEqual(data.user, { username: 'admin', role: 'admin' });
    const ttl = Date.parse(data.expiresAt) - Date.now();
    assert.ok(ttl > 11.9 * 3600_000 && ttl <= 12 * 3600_000, `default TTL 12 h, got ${ttl} ms`);
    const cookie = response.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^kai_session=/);
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    assert.doesNotMatch(cookie, /Secure/i, 'plain HTTP: no Secure flag');
    // X-Forwarded-Proto from a client that is not a trusted proxy changes nothing.
    const spoofed = await kai.anonymous('POST', '/api/auth/login', { username: 'admin', password: kai.admin.password }, { 'x-forwarded-proto': 'https' });
    assert.doesNotMatch(spoofed.headers.get('set-cookie') ?? '', /Secure/i);
  });

  it('marks the cookie Secure behind a trusted proxy that says https', async () => {
    const proxied = await startKai({ KAI_TRUST_PROXY: '127.0.0.1' });
    try {
      const response = await proxied.anonymous('POST', '/api/auth/login', { username: 'admin', password: proxied.admin.password }, { 'x-forwarded-proto': 'https' });
      assert.match(response.headers.get('set-cookie') ?? '', /Secure/i);
    } finally {
      await proxied.close();
    }
  });

  it('answers a wrong user and a wrong password identically', async () => {
    const wrongUser = await kai.anonymous('POST', '/api/auth/login', { username: 'nobody', password: 'whatever-1' });
    const wrongPassword = await kai.anonymous('POST', '/api/auth/login', { username: 'admin', password: 'whatever-2' });
    for (const response of [wrongUser, wrongPassword]) assertUnauthorized(response, 'login');
    assert.deepEqual(wrongUser.body.error, wrongPassword.body.error);
    assert.equal(wrongUser.headers.get('set-cookie'), null);
  });

  it('rate-limits login attempts per client and username with 429 and Retry-After', async () => {
    const limited = await startKai({ KAI_LOGIN_MAX_ATTEMPTS: '3', KAI_LOGIN_WINDOW: '60s' });
    try {
      // startKai's own login was the first attempt for "admin".
      const attempts: ApiResponse[] = [];
      for (let i = 0; i < 3; i++) attempts.push(await limited.anonymous('POST', '/api/auth/login', { username: 'admin', password: 'wrong-password' }));
      assert.deepEqual(attempts.map((r) => r.status), [401, 401, 429]);
      const blocked = attempts[2]!;
      assert.equal(blocked.body.error.code, 'RATE_LIMITED');
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
      // Even the right password waits now; another username does not.
      assert.equal((await limited.anonymous('POST', '/api/auth/login', { username: 'admin', password: limited.admin.password })).status, 429);
      assert.equal((await limited.anonymous('POST', '/api/auth/login', { username: 'other', password: 'wrong-password' })).status, 401);
    } finally {
      await limited.close();
    }
  });

  it('logout revokes the token and the cookie at once', async () => {
    const session = await kai.login('admin', kai.admin.password);
    const bearer = { authorization: `Bearer ${session.token}` };
    assert.equal((await apiRequest(kai.url, 'GET', '/api/auth/me', undefined, bearer)).status, 200);
    assert.equal((await apiRequest(kai.url, 'GET', '/api/auth/me', undefined, { cookie: session.cookie })).status, 200);
    const out = await apiRequest(kai.url, 'POST', '/api/auth/logout', undefined, bearer);
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /kai_session=;/);
    assertUnauthorized(await apiRequest(kai.url, 'GET', '/api/auth/me', undefined, bearer), 'token after logout');
    assertUnauthorized(await apiRequest(kai.url, 'GET', '/api/auth/me', undefined, { cookie: session.cookie }), 'cookie after logout');
  });

  it('requires the CSRF header on cookie requests that change state; bearer requests are exempt', async () => {
    const session = await kai.login('admin', kai.admin.password);
    const me = await apiRequest(kai.url, 'GET', '/api/auth/me', undefined, { cookie: session.cookie });
    assert.equal(me.body.data.csrfToken, session.csrfToken);
    const body = { name: 'csrf test', hostPath: kai.hostRoot };
    const without = await apiRequest(kai.url, 'POST', '/api/catalog/flexy', body, { cookie: session.cookie });
    assert.equal(without.status, 403);
    assert.equal(without.body.error.code, 'PERMISSION_DENIED');
    const wrong = await apiRequest(kai.url, 'POST', '/api/catalog/flexy', body, { cookie: session.cookie, 'x-csrf-token': 'guess' });
    assert.equal(wrong.status, 403);
    assert.equal((await kai.request('GET', '/api/catalog/flexy')).body.data.items.length, 0, 'refused requests change nothing');
    const withToken = await apiRequest(kai.url, 'POST', '/api/catalog/flexy', body, { cookie: session.cookie, 'x-csrf-token': session.csrfToken });
    assert.equal(withToken.status, 201, JSON.stringify(withToken.body));
    const bearer = await kai.request('DELETE', `/api/catalog/flexy/${withToken.body.data.id}`);
    assert.equal(bearer.status, 200);
  });

  it('refuses upgrade handshakes from a foreign Origin before the upgrade', async () => {
    assert.equal(await upgradeRequest(kai.url, '/api/health', 'https://evil.example.com'), 403);
    assert.equal(await upgradeRequest(kai.url, '/api/flexy', 'http://localhost.evil.com'), 403);
    // A trusted origin passes the Origin check; /api/health itself takes no WebSocket, so 400.
    assert.equal(await upgradeRequest(kai.url, '/api/health', kai.url), 400);
    assert.equal(await upgradeRequest(kai.url, '/api/health', 'https://console.example.com'), 400);
  });

  it('manages API tokens: shown once, stored hashed, listed without secrets, revocable', async () => {
    const created = await kai.request('POST', '/api/auth/tokens', { name: 'ci script' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const token: string = created.body.data.token;
    assert.match(token, /^kai_[A-Za-z0-9_-]{40,}$/);
    const asToken = { authorization: `Bearer ${token}` };
    const me = await apiRequest(kai.url, 'GET', '/api/auth/me', undefined, asToken);
    assert.deepEqual(me.body.data.user, { username: 'admin', role: 'admin' });
    assert.equal(me.body.data.via, 'api-token');
    assert.equal((await apiRequest(kai.url, 'POST', '/api/catalog/flexy', { name: 'by token', hostPath: kai.hostRoot }, asToken)).status, 201);

    const list = await kai.request('GET', '/api/auth/tokens');
    const listed = list.body.data.tokens.find((t: { id: string }) => t.id === created.body.data.id);
    assert.equal(listed.name, 'ci script');
    assert.ok(listed.lastUsedAt);
    assert.ok(!JSON.stringify(list.body).includes(token.slice(4)), 'no secret in the list');
    const stored = kai.db.prepare('SELECT token_hash FROM api_tokens WHERE id = ?').get(created.body.data.id) as { token_hash: string };
    assert.ok(!stored.token_hash.includes(token.slice(4)));

    assert.equal((await kai.request('DELETE', `/api/auth/tokens/${created.body.data.id}`)).status, 200);
    assertUnauthorized(await apiRequest(kai.url, 'GET', '/api/auth/me', undefined, asToken), 'revoked API token');
    assert.equal((await kai.request('DELETE', `/api/auth/tokens/${created.body.data.id}`)).status, 404);

    const past = await kai.request('POST', '/api/auth/tokens', { name: 'old', expiresAt: '2001-01-01T00:00:00Z' });
    assert.equal(past.status, 400);
    assert.equal(past.body.error.details.fields[0].field, 'body.expiresAt');

    const viewerToken = await apiRequest(kai.url, 'POST', '/api/auth/tokens', { name: 'viewer script' }, { authorization: `Bearer ${viewer.token}` });
    assert.equal(viewerToken.status, 201);
    const asViewerToken = { authorization: `Bearer ${viewerToken.body.data.token}` };
    assert.equal((await apiRequest(kai.url, 'GET', '/api/flexy', undefined, asViewerToken)).status, 200);
    assert.equal((await apiRequest(kai.url, 'POST', '/api/flexy', { name: 'nope-nope' }, asViewerToken)).status, 403);
  });

  it('manages users: duplicates conflict, the last admin stays, deleting a user ends their access', async () => {
    assert.equal((await kai.request('POST', '/api/users', { username: 'vera', password: 'another-pass', role: 'viewer' })).status, 409);
    const bad = await kai.request('POST', '/api/users', { username: 'x y', password: 'short', role: 'root' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.details.fields.map((f: { field: string }) => f.field).sort(), ['body.password', 'body.role', 'body.username']);

    const users = await kai.request('GET', '/api/users');
    assert.deepEqual(users.body.data.users.map((u: { username: string; role: string }) => [u.username, u.role]), [['admin', 'admin'], ['vera', 'viewer']]);
    assert.ok(!JSON.stringify(users.body).includes('scrypt'));

    const lastAdmin = await kai.request('DELETE', '/api/users/admin');
    assert.equal(lastAdmin.status, 409);
    assert.equal(lastAdmin.body.error.code, 'CONFLICT');
    assert.equal((await kai.request('DELETE', '/api/users/nobody')).status, 404);

    await kai.request('POST', '/api/users', { username: 'temp', password: 'temp-password', role: 'admin' });
    const temp = await kai.login('temp', 'temp-password');
    const tempToken = (await apiRequest(kai.url, 'POST', '/api/auth/tokens', { name: 't' }, { authorization: `Bearer ${temp.token}` })).body.data.token;
    assert.equal((await kai.request('DELETE', '/api/users/temp')).status, 200);
    assertUnauthorized(await apiRequest(kai.url, 'GET', '/api/auth/me', undefined, { authorization: `Bearer ${temp.token}` }), 'deleted user session');
    assertUnauthorized(await apiRequest(kai.url, 'GET', '/api/auth/me', undefined, { authorization: `Bearer ${tempToken}` }), 'deleted user token');
  });

  it('changes passwords: own needs the old one and ends the other sessions; an admin may reset anyone', async () => {
    await kai.request('POST', '/api/users', { username: 'paula', password: 'first-password', role: 'viewer' });
    const current = await kai.login('paula', 'first-password');
    const other = await kai.login('paula', 'first-password');
    const as = (session: { token: string }) => ({ authorization: `Bearer ${session.token}` });

    const noOld = await apiRequest(kai.url, 'PUT', '/api/users/paula/password', { password: 'second-password' }, as(current));
    assert.equal(noOld.status, 400);
    const wrongOld = await apiRequest(kai.url, 'PUT', '/api/users/paula/password', { password: 'second-password', oldPassword: 'nope' }, as(current));
    assert.equal(wrongOld.status, 403);
    const someoneElse = await apiRequest(kai.url, 'PUT', '/api/users/vera/password', { password: 'hijacked-password' }, as(current));
    assert.equal(someoneElse.status, 403);

    const changed = await apiRequest(kai.url, 'PUT', '/api/users/paula/password', { password: 'second-password', oldPassword: 'first-password' }, as(current));
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal((await apiRequest(kai.url, 'GET', '/api/auth/me', undefined, as(current))).status, 200, 'the current session stays');
    assertUnauthorized(await apiRequest(kai.url, 'GET', '/api/auth/me', undefined, as(other)), 'other session after password change');
    assert.equal((await kai.anonymous('POST', '/api/auth/login', { username: 'paula', password: 'first-password' })).status, 401);

    assert.equal((await kai.request('PUT', '/api/users/paula/password', { password: 'reset-by-admin' })).status, 200);
    assertUnauthorized(await apiRequest(kai.url, 'GET', '/api/auth/me', undefined, as(current)), 'session after admin reset');
    assert.equal((await kai.anonymous('POST', '/api/auth/login', { username: 'paula', password: 'reset-by-admin' })).status, 200);
    assert.equal((await kai.request('PUT', '/api/users/ghost/password', { password: 'whatever-pass' })).status, 404);
  });

  it('sends security headers', async () => {
    const response = await kai.anonymous('GET', '/api/health');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(response.headers.get('content-security-policy'));
    assert.ok(response.headers.get('x-frame-options') ?? response.headers.get('content-security-policy')?.includes('frame-ancestors'));
  });
});

describe('First start', () => {
  it('creates the admin from KAI_ADMIN_PASSWORD and announces nothing', async () => {
    const announced: string[] = [];
    const kai = await startKai({ KAI_ADMIN_USERNAME: 'root-user', KAI_ADMIN_PASSWORD: 'configured-password' }, { announce: (t) => announced.push(t) });
    try {
      assert.deepEqual(announced, []);
      assert.equal((await kai.anonymous('POST', '/api/auth/login', { username: 'root-user', password: 'configured-password' })).status, 200);
      assert.equal((await kai.anonymous('POST', '/api/auth/login', { username: 'admin', password: 'admin' })).status, 401);
    } finally {
      await kai.close();
    }
  });

  it('generates a strong password once when none is given, keeps the secret private, and does not repeat on restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'kai-first-'));
    const announced: string[] = [];
    const logLines: string[] = [];
    const first = await startKai({ KAI_ADMIN_PASSWORD: '', KAI_LOG_LEVEL: 'info' }, { dataDir, announce: (t) => announced.push(t), logStream: { write: (l) => logLines.push(l) } });
    let password = '';
    try {
      assert.equal(announced.length, 1);
      password = /password:\s*\n\s*(\S+)/.exec(announced[0]!)?.[1] ?? '';
      assert.ok(password.length >= 20, 'a long random password');
      const login = await first.anonymous('POST', '/api/auth/login', { username: 'admin', password });
      assert.equal(login.status, 200);
      await first.request('GET', '/api/flexy', undefined, { authorization: `Bearer ${login.body.data.token}` });
      const log = logLines.join('');
      assert.ok(!log.includes(password), 'the password is not in the log');
      assert.ok(!log.includes(login.body.data.token), 'the token is not in the log');
      assert.equal(statSync(path.join(dataDir, 'jwt-secret')).mode & 0o777, 0o600);
    } finally {
      await first.close();
    }
    const again: string[] = [];
    const second = await startKai({ KAI_ADMIN_PASSWORD: '' }, { dataDir, announce: (t) => again.push(t) });
    try {
      assert.deepEqual(again, []);
      assert.equal((await second.anonymous('POST', '/api/auth/login', { username: 'admin', password })).status, 200);
    } finally {
      await second.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
