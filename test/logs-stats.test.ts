import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dockerCli } from './support/docker.js';
import { TEST_IMAGE, apiRequest, startKai, type TestKai } from './support/kai.js';
import { SseClient, eventually } from './support/sse.js';

interface Line {
  stream: 'stdout' | 'stderr';
  line: string;
  timestamp: string | null;
}

async function runLabelled(kai: TestKai, name: string, ...args: string[]): Promise<string> {
  return dockerCli('run', '-d', '--name', name, '--label', 'kai.managed=true', '--label', `kai.instance=${kai.instance}`, ...args);
}

describe('GET /api/flexy/:id/logs and /stats', () => {
  let kai: TestKai;
  const script = 'echo out-1; echo err-1 >&2; echo out-2; echo err-2 >&2; sleep 2; echo out-3; echo err-3 >&2; exec sleep 300';

  before(async () => {
    kai = await startKai();
  });
  after(async () => kai.close());

  it('returns recent lines with stdout and stderr told apart, honouring tail, timestamps and since', async () => {
    const name = `${kai.prefix}-talker`;
    await runLabelled(kai, name, TEST_IMAGE, 'sh', '-c', script);
    const all = await eventually(async () => {
      const response = await kai.request('GET', `/api/flexy/${name}/logs?tail=all`);
      return response.body.data?.lines?.length === 6 ? response : undefined;
    }, 'six lines');
    assert.equal(all.status, 200);
    assert.equal(all.body.data.tty, false);
    assert.equal(all.body.data.truncated, false);
    const lines = all.body.data.lines as Line[];
    assert.deepEqual(lines.filter((l) => l.stream === 'stdout').map((l) => l.line), ['out-1', 'out-2', 'out-3']);
    assert.deepEqual(lines.filter((l) => l.stream === 'stderr').map((l) => l.line), ['err-1', 'err-2', 'err-3']);
    assert.ok(lines.every((l) => l.timestamp === null));

    const tail = await kai.request('GET', `/api/flexy/${name}/logs?tail=2`);
    assert.equal(tail.body.data.lines.length, 2);
    assert.deepEqual(tail.body.data.lines.map((l: Line) => l.line).sort(), ['err-3', 'out-3']);

    const stamped = (await kai.request('GET', `/api/flexy/${name}/logs?tail=all&timestamps=true`)).body.data.lines as Line[];
    assert.ok(stamped.every((l) => l.timestamp && !Number.isNaN(Date.parse(l.timestamp))), JSON.stringify(stamped));
    assert.deepEqual(stamped.map((l) => l.line).sort(), lines.map((l) => l.line).sort());
    // After the first four lines and the two-second sleep: only the last two.
    const cut = new Date(Date.parse(stamped.find((l) => l.line === 'out-3')!.timestamp!) - 500).toISOString();
    const since = await kai.request('GET', `/api/flexy/${name}/logs?tail=all&since=${encodeURIComponent(cut)}`);
    assert.equal(since.status, 200, JSON.stringify(since.body));
    assert.deepEqual(since.body.data.lines.map((l: Line) => l.line).sort(), ['err-3', 'out-3']);
    const sinceSeconds = await kai.request('GET', `/api/flexy/${name}/logs?tail=all&since=${Date.parse(cut) / 1000}`);
    assert.deepEqual(sinceSeconds.body.data.lines.map((l: Line) => l.line).sort(), ['err-3', 'out-3']);
  });

  it('follows as SSE until the container stops', async () => {
    const name = `${kai.prefix}-follower`;
    await runLabelled(kai, name, TEST_IMAGE, 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick-$i; echo tock-$i >&2; sleep 0.2; done');
    const stream = await SseClient.open(`${kai.url}/api/flexy/${name}/logs?follow=true&tail=0`, { authorization: `Bearer ${kai.admin.token}` });
    try {
      assert.equal(stream.status, 200);
      assert.match(stream.contentType, /^text\/event-stream/);
      await stream.waitFor((events) => events.filter((e) => e.event === 'log').length >= 6, 'six followed lines');
      const logs = stream.events.filter((e) => e.event === 'log').map((e) => e.data as Line);
      assert.ok(logs.some((l) => l.stream === 'stdout' && /^tick-\d+$/.test(l.line)));
      assert.ok(logs.some((l) => l.stream === 'stderr' && /^tock-\d+$/.test(l.line)));
      await dockerCli('stop', '-t', '1', name);
      await stream.waitFor((events) => events.some((e) => e.event === 'end'), 'the end event');
      await stream.waitForEnd();
    } finally {
      await stream.close();
    }
  });

  it('reads a TTY container raw, as stdout', async () => {
    const name = `${kai.prefix}-tty`;
    await runLabelled(kai, name, '-t', TEST_IMAGE, 'sh', '-c', 'echo on-a-tty; echo also >&2; exec sleep 300');
    const response = await eventually(async () => {
      const r = await kai.request('GET', `/api/flexy/${name}/logs`);
      return r.body.data?.lines?.length >= 2 ? r : undefined;
    }, 'tty lines');
    assert.equal(response.body.data.tty, true);
    assert.deepEqual(response.body.data.lines.map((l: Line) => `${l.stream}:${l.line}`), ['stdout:on-a-tty', 'stdout:also']);
  });

  it('reports sane stats for a running container, once and as a stream', async () => {
    const name = `${kai.prefix}-busy`;
    await runLabelled(kai, name, TEST_IMAGE, 'sh', '-c', 'sleep 300 & sleep 300 & while true; do :; done');
    const response = await kai.request('GET', `/api/flexy/${name}/stats`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const stats = response.body.data;
    assert.equal(stats.id.length, 64);
    assert.ok(stats.cpuPercent > 0 && stats.cpuPercent <= 100 * stats.onlineCpus + 5, `cpu ${stats.cpuPercent}`);
    assert.ok(stats.onlineCpus >= 1);
    assert.ok(stats.memory.usedBytes > 0 && stats.memory.usedBytes < stats.memory.limitBytes, JSON.stringify(stats.memory));
    assert.ok(stats.memory.percent >= 0 && stats.memory.percent <= 100);
    assert.ok(stats.pids >= 3, `pids ${stats.pids}`);
    assert.ok(stats.network.rxBytes >= 0 && stats.network.txBytes >= 0);
    assert.ok(stats.blockIo.readBytes >= 0 && stats.blockIo.writeBytes >= 0);
    assert.ok(!Number.isNaN(Date.parse(stats.read)));

    const stream = await SseClient.open(`${kai.url}/api/flexy/${name}/stats?stream=true`, { authorization: `Bearer ${kai.admin.token}` });
    try {
      await stream.waitFor((events) => events.filter((e) => e.event === 'stats').length >= 2, 'two samples');
      const sample = stream.events.find((e) => e.event === 'stats')!.data;
      assert.deepEqual(Object.keys(sample).sort(), Object.keys(stats).sort());
    } finally {
      await stream.close();
    }
    await dockerCli('stop', '-t', '0', name);
    const stopped = await kai.request('GET', `/api/flexy/${name}/stats`);
    assert.equal(stopped.status, 409);
    assert.equal(stopped.body.error.code, 'CONFLICT');
  });

  it('answers 404 for unknown containers and 400 for bad queries; viewers may read', async () => {
    assert.equal((await kai.request('GET', '/api/flexy/no-such-thing/logs')).body.error.code, 'CONTAINER_NOT_FOUND');
    assert.equal((await kai.request('GET', '/api/flexy/no-such-thing/stats')).status, 404);
    const follow404 = await SseClient.open(`${kai.url}/api/flexy/no-such-thing/logs?follow=true`, { authorization: `Bearer ${kai.admin.token}` });
    assert.equal(follow404.status, 404);
    for (const query of ['tail=-1', 'tail=lots', 'since=yesterday', 'follow=maybe', 'extra=1']) {
      const response = await kai.request('GET', `/api/flexy/anything/logs?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(response.body.error.code, 'VALIDATION_ERROR');
    }
    assert.equal((await kai.request('POST', '/api/users', { username: 'val', password: 'viewer-password', role: 'viewer' })).status, 201);
    const viewer = await kai.login('val', 'viewer-password');
    const name = `${kai.prefix}-talker`;
    const asViewer = await apiRequest(kai.url, 'GET', `/api/flexy/${name}/logs`, undefined, { authorization: `Bearer ${viewer.token}` });
    assert.equal(asViewer.status, 200);
  });
});
