import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dockerCli } from './support/docker.js';
import { apiRequest, FLEXY_IMAGE, startKai, TEST_IMAGE, type TestKai } from './support/kai.js';
import { RecordingSocket, refusedStatus, waitFor } from './support/ws.js';

/** ttyd's own protocol: a first JSON message, then typed frames whose first byte is the type. */
function ttydInput(text: string): Buffer {
  return Buffer.concat([Buffer.from('0'), Buffer.from(text)]);
}

describe('Proxy to the sandbox web terminal and docs', () => {
  let kai: TestKai;
  let flexy: string;
  let plain: string;
  const bearer = () => ({ Authorization: `Bearer ${kai.admin.token}` });
  const wsUrl = (path: string) => `${kai.url.replace('http', 'ws')}${path}`;

  before(async () => {
    kai = await startKai();
    flexy = `${kai.prefix}-ttyd`;
    plain = `${kai.prefix}-plain`;
    assert.equal((await kai.request('POST', '/api/flexy', { name: flexy, image: FLEXY_IMAGE, start: true })).status, 201);
    assert.equal((await kai.request('POST', '/api/flexy', { name: plain, start: true })).status, 201);
    // ttyd takes a moment to listen after the container starts.
    await waitFor(async () => (await kai.request('GET', `/flexy/${flexy}/shell/`)).status === 200, 'ttyd to answer through Kai');
  });
  after(async () => kai.close());

  it('redirects to the trailing-slash form and serves ttyd\'s page and token under the prefix', async () => {
    const redirect = await fetch(`${kai.url}/flexy/${flexy}/shell`, { headers: bearer(), redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), `/flexy/${flexy}/shell/`);
    const page = await fetch(`${kai.url}/flexy/${flexy}/shell/`, { headers: bearer() });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    assert.equal(page.headers.get('content-security-policy'), null, "Kai's CSP would break ttyd's page");
    const token = await fetch(`${kai.url}/flexy/${flexy}/shell/token`, { headers: bearer() });
    assert.equal(token.status, 200);
    assert.ok('token' in (await token.json()));
  });

  it('carries ttyd\'s WebSocket with the tty subprotocol and binary frames: typed input comes back', async () => {
    const marker = `kai-${Date.now().toString(36)}`;
    const client = new RecordingSocket(wsUrl(`/flexy/${flexy}/shell/ws`), ['tty'], { headers: { ...bearer(), origin: kai.url } });
    await client.open();
    assert.equal(client.socket.protocol, 'tty');
    client.socket.send(JSON.stringify({ AuthToken: '', columns: 80, rows: 24 }));
    client.socket.send(ttydInput(`echo ${marker}-$((6*7))\r`));
    await client.until(() => client.text().includes(`${marker}-42`), 'the echoed marker');
    client.close();
  });

  it('refuses requests without credentials, and upgrades from a foreign Origin, before reaching the sandbox', async () => {
    assert.equal((await fetch(`${kai.url}/flexy/${flexy}/shell/`)).status, 401);
    assert.equal(await refusedStatus(wsUrl(`/flexy/${flexy}/shell/ws`), ['tty'], {}), 401);
    assert.equal(await refusedStatus(wsUrl(`/flexy/${flexy}/shell/ws`), ['tty'], { headers: { ...bearer(), origin: 'https://evil.example.com' } }), 403);
    assert.equal(await refusedStatus(wsUrl(`/api/flexy/${flexy}/terminal`), [], { headers: { ...bearer(), origin: 'https://evil.example.com' } }), 403);
  });

  it('never forwards Kai\'s cookie, bearer token or CSRF header to the container', async () => {
    const capture = (file: string) =>
      dockerCli('exec', '-d', plain, 'sh', '-c', `printf 'HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nseen' | nc -l -p 8080 > ${file}`);
    await capture('/tmp/http.txt');
    await waitFor(async () => (await dockerCli('exec', plain, 'sh', '-c', 'netstat -ltn 2>/dev/null | grep -c :8080 || true')) !== '0', 'nc to listen');
    const session = await kai.login('admin', kai.admin.password);
    const response = await fetch(`${kai.url}/flexy/${plain}/docs/probe?x=1`, {
      headers: { ...bearer(), cookie: `theirs=keep; ${session.cookie}`, 'x-csrf-token': session.csrfToken, 'x-custom': 'passes' },
    });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'seen');
    const seen = await dockerCli('exec', plain, 'cat', '/tmp/http.txt');
    assert.match(seen, /^GET \/probe\?x=1 HTTP/);
    assert.match(seen, /x-custom: passes/i);
    assert.match(seen, /theirs=keep/);
    assert.doesNotMatch(seen, /kai_session/i);
    assert.doesNotMatch(seen, /authorization/i);
    assert.doesNotMatch(seen, /x-csrf-token/i);
    assert.ok(!seen.includes(kai.admin.token));

    // The same for a WebSocket handshake (the first listener may still hold the proxy's kept-alive connection).
    await dockerCli('exec', plain, 'sh', '-c', 'killall nc || true');
    await capture('/tmp/ws.txt');
    await waitFor(async () => (await dockerCli('exec', plain, 'sh', '-c', 'netstat -ltn 2>/dev/null | grep -c :8080 || true')) !== '0', 'nc to listen again');
    const ws = new RecordingSocket(wsUrl(`/flexy/${plain}/docs/socket`), [], { headers: { ...bearer(), cookie: `theirs=keep; ${session.cookie}`, origin: kai.url } });
    await ws.open().catch(() => undefined);
    await waitFor(async () => /^host:/im.test(await dockerCli('exec', plain, 'cat', '/tmp/ws.txt')), 'the handshake to reach the container');
    const handshake = await dockerCli('exec', plain, 'cat', '/tmp/ws.txt');
    assert.match(handshake, /^GET \/socket HTTP/);
    assert.match(handshake, /upgrade: websocket/i);
    assert.doesNotMatch(handshake, /kai_session|authorization/i);
    ws.socket.terminate();
  });

  it('answers 404, 409 and 502 in the envelope for API clients and as a page for browsers', async () => {
    const missing = await kai.request('GET', '/flexy/no-such-sandbox/shell/');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'CONTAINER_NOT_FOUND');
    const page = await fetch(`${kai.url}/flexy/no-such-sandbox/shell/`, { headers: { ...bearer(), accept: 'text/html,application/xhtml+xml' } });
    assert.equal(page.status, 404);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /no-such-sandbox/);
    assert.match(html, /href="\/"/);

    const nothing = await kai.request('GET', `/flexy/${flexy}/docs/`);
    assert.equal(nothing.status, 502);
    assert.equal(nothing.body.error.code, 'NETWORK_ERROR');

    const stopped = `${kai.prefix}-stopped`;
    await kai.request('POST', '/api/flexy', { name: stopped, image: TEST_IMAGE });
    const conflict = await kai.request('GET', `/flexy/${stopped}/shell/`);
    assert.equal(conflict.status, 409);
    assert.match(conflict.body.error.message, /start it/);
  });

  it('swaps a single-use link token for a session cookie and strips it before forwarding', async () => {
    const link = await kai.request('POST', `/api/flexy/${flexy}/shell-link`, {});
    assert.equal(link.status, 200, JSON.stringify(link.body));
    const url: string = link.body.data.url;
    assert.match(url, /^\/flexy\/[0-9a-f]{64}\/shell\/\?token=/);
    const first = await fetch(`${kai.url}${url}`, { redirect: 'manual' });
    assert.equal(first.status, 302);
    assert.equal(first.headers.get('location'), url.split('?')[0]);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0]!;
    assert.match(cookie, /^kai_session=/);
    const page = await fetch(`${kai.url}${first.headers.get('location')}`, { headers: { cookie } });
    assert.equal(page.status, 200);
    assert.equal((await fetch(`${kai.url}${url}`, { redirect: 'manual' })).status, 401, 'a link works once');
    const docsLink = await kai.request('POST', `/api/flexy/${flexy}/shell-link`, { target: 'docs' });
    const wrongPlace = docsLink.body.data.url.replace('/docs/', '/shell/');
    assert.equal((await fetch(`${kai.url}${wrongPlace}`, { redirect: 'manual' })).status, 401, 'a link opens only what it was made for');
    const viewer = await kai.request('POST', '/api/users', { username: 'shellviewer', password: 'viewer-password', role: 'viewer' });
    assert.equal(viewer.status, 201);
    const viewerSession = await kai.login('shellviewer', 'viewer-password');
    const refused = await apiRequest(kai.url, 'POST', `/api/flexy/${flexy}/shell-link`, {}, { authorization: `Bearer ${viewerSession.token}` });
    assert.equal(refused.status, 403, 'a shell is admin-only');
    assert.equal((await apiRequest(kai.url, 'GET', `/flexy/${flexy}/shell/`, undefined, { authorization: `Bearer ${viewerSession.token}` })).status, 403);
  });
});
