import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dockerCli } from './support/docker.js';
import { startKai, type TestKai } from './support/kai.js';
import { RecordingSocket, refusedStatus, waitFor } from './support/ws.js';

describe('Built-in terminal', () => {
  let kai: TestKai;
  let box: string;
  const headers = () => ({ Authorization: `Bearer ${kai.admin.token}`, origin: kai.url });
  const terminalUrl = (query = '') => `${kai.url.replace('http', 'ws')}/api/flexy/${box}/terminal${query}`;

  async function openTerminal(query = ''): Promise<{ client: RecordingSocket; session: string }> {
    const client = new RecordingSocket(terminalUrl(query), [], { headers: headers() });
    await client.open();
    await client.until(() => client.texts.length > 0, 'the session message');
    const hello = JSON.parse(client.texts[0]!);
    assert.equal(hello.type, 'session');
    return { client, session: hello.id as string };
  }

  const type = (client: RecordingSocket, text: string) => client.socket.send(Buffer.from(text));
  const processes = () => dockerCli('top', box, '-o', 'pid,args');

  before(async () => {
    kai = await startKai({ KAI_TERMINAL_GRACE: '2s' });
    box = `${kai.prefix}-term`;
    assert.equal((await kai.request('POST', '/api/flexy', { name: box, start: true })).status, 201);
  });
  after(async () => kai.close());

  it('runs commands with a TTY in the container and resizes it', async () => {
    const { client, session } = await openTerminal('?cols=100&rows=30');
    type(client, 'echo "sum=$((20+22))"; stty size\n');
    await client.until(() => client.text().includes('sum=42') && client.text().includes('30 100'), 'output and initial size');
    client.socket.send(JSON.stringify({ type: 'resize', cols: 132, rows: 43 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    type(client, 'stty size\n');
    await client.until(() => client.text().includes('43 132'), 'the new size');
    const list = await kai.request('GET', `/api/flexy/${box}/terminals`);
    const listed = list.body.data.sessions.find((s: { id: string }) => s.id === session);
    assert.equal(listed.viewers, 1);
    assert.equal(listed.owner, 'admin');
    client.close();
  });

  it('keeps the shell through a dropped connection and replays what it printed meanwhile; several viewers share it', async () => {
    const { client, session } = await openTerminal();
    type(client, 'sleep 0.5; echo "while-away-$((3*5))"\n');
    client.socket.terminate(); // a dropped connection, not a clean close
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const back = new RecordingSocket(terminalUrl(`?session=${session}`), [], { headers: headers() });
    await back.open();
    await back.until(() => back.text().includes('while-away-15'), 'the replayed output');
    assert.equal(JSON.parse(back.texts[0]!).id, session);

    const second = new RecordingSocket(terminalUrl(`?session=${session}`), [], { headers: headers() });
    await second.open();
    type(back, 'echo "shared-$((6*7))"\n');
    await second.until(() => second.text().includes('shared-42'), 'output on the second viewer');
    await back.until(() => back.text().includes('shared-42'), 'output on the first viewer');
    back.close();
    second.close();
  });

  it('closing a session ends its shell and everything it started', async () => {
    const { client, session } = await openTerminal();
    type(client, 'sleep 4242 & (sleep 4343 &) ; echo started\n');
    await client.until(() => client.text().includes('started'), 'the background jobs');
    await waitFor(async () => (await processes()).includes('sleep 4343'), 'the processes to appear');
    const closed = await kai.request('DELETE', `/api/flexy/${box}/terminals/${session}`);
    assert.equal(closed.status, 200);
    await client.until(() => client.closed !== undefined, 'the close');
    assert.equal(client.closed?.code, 1000);
    await waitFor(async () => !/sleep 4242|sleep 4343/.test(await processes()), 'the processes to be gone');
    assert.equal((await kai.request('DELETE', `/api/flexy/${box}/terminals/${session}`)).status, 404);
  });

  it('ends the shell when nobody reconnects within the grace period', async () => {
    const { client, session } = await openTerminal();
    type(client, 'sleep 5151 &\n');
    await waitFor(async () => (await processes()).includes('sleep 5151'), 'the process to appear');
    client.close();
    await waitFor(async () => !(await processes()).includes('sleep 5151'), 'the expired session to be killed', 15_000);
    const list = await kai.request('GET', `/api/flexy/${box}/terminals`);
    assert.ok(!list.body.data.sessions.some((s: { id: string }) => s.id === session));
    assert.equal(await refusedStatus(terminalUrl(`?session=${session}`), [], { headers: headers() }), 404);
  });

  it('refuses plain requests, unknown containers, stopped containers and unknown sessions before upgrading', async () => {
    const plain = await kai.request('GET', `/api/flexy/${box}/terminal`);
    assert.equal(plain.status, 400);
    assert.equal(await refusedStatus(`${kai.url.replace('http', 'ws')}/api/flexy/nope-nope/terminal`, [], { headers: headers() }), 404);
    assert.equal(await refusedStatus(terminalUrl('?session=not-a-session'), [], { headers: headers() }), 404);
    assert.equal(await refusedStatus(terminalUrl('?cols=0'), [], { headers: headers() }), 400);
    const stopped = `${kai.prefix}-idle`;
    await kai.request('POST', '/api/flexy', { name: stopped });
    assert.equal(await refusedStatus(`${kai.url.replace('http', 'ws')}/api/flexy/${stopped}/terminal`, [], { headers: headers() }), 409);
  });

  it('keeps memory bounded when a viewer does not read', async () => {
    const { client } = await openTerminal();
    // Stop reading from the socket: Kai must pause the shell instead of buffering its output.
    (client.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const before = process.memoryUsage().rss;
    type(client, 'yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c 400000000; echo done\n');
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 96 * 1024 * 1024, `Kai's memory grew by ${Math.round(grown / 1048576)} MiB with a stalled viewer`);
    client.socket.terminate();
  });

  it('tells viewers clearly when the container stops', async () => {
    const { client } = await openTerminal();
    await kai.request('POST', `/api/flexy/${box}/stop`);
    await client.until(() => client.closed !== undefined, 'the close', 15_000);
    assert.equal(client.closed?.code, 4002);
    assert.match(client.closed?.reason ?? '', /container stopped/);
    assert.ok(client.texts.some((t) => t.includes('"type":"exit"')));
  });
});
