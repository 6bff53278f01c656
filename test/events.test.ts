import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dockerCli } from './support/docker.js';
import { EngineProxy } from './support/engine-proxy.js';
import { TEST_IMAGE, apiRequest, startKai, uniqueId, type TestKai } from './support/kai.js';
import { SseClient, eventually, type SseEvent } from './support/sse.js';

/** Lifecycle events of one container, in order, as "type" strings. */
function typesFor(events: SseEvent[], name: string): string[] {
  return events.filter((e) => e.data?.container?.name === name).map((e) => e.event);
}

function hasTypes(name: string, ...wanted: string[]) {
  return (events: SseEvent[]) => {
    const seen = typesFor(events, name);
    return wanted.every((type) => seen.includes(type));
  };
}

/** A container made with the docker CLI but carrying Kai's labels, so this Kai sees it as its own. */
async function runLabelled(kai: TestKai, name: string, ...args: string[]): Promise<string> {
  return dockerCli('run', '-d', '--name', name, '--label', 'kai.managed=true', '--label', `kai.instance=${kai.instance}`, ...args);
}

function openEvents(kai: TestKai, headers: Record<string, string> = {}): Promise<SseClient> {
  return SseClient.open(`${kai.url}/api/events`, { authorization: `Bearer ${kai.admin.token}`, ...headers });
}

describe('GET /api/events: container lifecycle as Server-Sent Events', () => {
  let kai: TestKai;
  let stream: SseClient;

  before(async () => {
    kai = await startKai({ KAI_SSE_HEARTBEAT: '1s' });
    stream = await openEvents(kai);
  });
  after(async () => {
    await stream.close();
    await kai.close();
  });

  it('opens an event stream that starts with `ready` and sends heartbeat comments', async () => {
    assert.equal(stream.status, 200);
    assert.match(stream.contentType, /^text\/event-stream/);
    await stream.waitFor((events) => events.some((e) => e.event === 'ready'), 'ready');
    await eventually(() => stream.comments.includes('heartbeat'), 'a heartbeat comment');
  });

  it('reports Kai actions and docker CLI changes alike, with exit codes', async () => {
    const name = `${kai.prefix}-life`;
    const created = await kai.request('POST', '/api/flexy', { name, start: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await stream.waitFor(hasTypes(name, 'container.created', 'container.started'), 'created and started');

    await dockerCli('stop', '-t', '1', name);
    await stream.waitFor(hasTypes(name, 'container.stopped'), 'stopped from the CLI');
    const stopped = stream.events.find((e) => e.data?.container?.name === name && e.event === 'container.stopped')!;
    assert.equal(stopped.data.container.status, 'stopped');
    assert.equal(typeof stopped.data.exitCode, 'number');
    assert.equal(stopped.data.reconciled, false);
    assert.equal(stopped.data.type, 'container.stopped');
    assert.equal(stopped.data.id, stopped.id);
    assert.ok(!Number.isNaN(Date.parse(stopped.data.timestamp)));
    assert.equal(stopped.data.container.id, created.body.data.id);

    await dockerCli('start', name);
    await dockerCli('pause', name);
    await dockerCli('unpause', name);
    await dockerCli('restart', '-t', '1', name);
    await stream.waitFor(hasTypes(name, 'container.paused', 'container.unpaused', 'container.restarted'), 'pause, unpause, restart');

    await dockerCli('rm', '-f', name);
    await stream.waitFor(hasTypes(name, 'container.deleted'), 'deleted');
    const types = typesFor(stream.events, name);
    assert.deepEqual(types.slice(0, 3), ['container.created', 'container.started', 'container.stopped']);
    assert.equal(types.at(-1), 'container.deleted');
    assert.ok(!types.includes('container.died') || types.indexOf('container.died') > types.indexOf('container.restarted'), 'stop requests are not reported as deaths');
  });

  it('reports a process that exits by itself as container.died with its exit code', async () => {
    const name = `${kai.prefix}-exits`;
    await runLabelled(kai, name, TEST_IMAGE, 'sh', '-c', 'exit 3');
    await stream.waitFor(hasTypes(name, 'container.created', 'container.started', 'container.died'), 'died');
    const died = stream.events.find((e) => e.data?.container?.name === name && e.event === 'container.died')!;
    assert.equal(died.data.exitCode, 3);
    assert.ok(!typesFor(stream.events, name).includes('container.stopped'));
    await dockerCli('rm', '-f', name);
    await stream.waitFor(hasTypes(name, 'container.deleted'), 'deleted');
  });

  it("ignores containers that are not this Kai's", async () => {
    const foreign = `${kai.prefix}-foreign`;
    const marker = `${kai.prefix}-marker`;
    try {
      await dockerCli('run', '-d', '--name', foreign, '--label', 'kai.managed=true', '--label', 'kai.instance=someone-else', TEST_IMAGE, 'sh', '-c', 'exit 0');
      // Events arrive in order: once the marker's is here, a foreign one would have been too.
      await runLabelled(kai, marker, TEST_IMAGE, 'sh', '-c', 'exit 0');
      await stream.waitFor(hasTypes(marker, 'container.died'), 'the marker');
      assert.deepEqual(typesFor(stream.events, foreign), []);
    } finally {
      await dockerCli('rm', '-f', foreign, marker).catch(() => undefined);
    }
  });

  it('resumes with Last-Event-ID without losing anything inside the window', async () => {
    const watcher = await openEvents(kai);
    const early = await openEvents(kai);
    try {
      const names = [1, 2, 3, 4].map((n) => `${kai.prefix}-resume-${n}`);
      await dockerCli('create', '--name', names[0]!, '--label', 'kai.managed=true', '--label', `kai.instance=${kai.instance}`, TEST_IMAGE);
      await early.waitFor(hasTypes(names[0]!, 'container.created'), 'the first create');
      const lastSeen = early.events.filter((e) => e.id).at(-1)!.id!;
      await early.close();
      for (const name of names.slice(1)) {
        await dockerCli('create', '--name', name, '--label', 'kai.managed=true', '--label', `kai.instance=${kai.instance}`, TEST_IMAGE);
      }
      await watcher.waitFor(hasTypes(names[3]!, 'container.created'), 'the last create');

      const resumed = await openEvents(kai, { 'last-event-id': lastSeen });
      try {
        await resumed.waitFor(hasTypes(names[3]!, 'container.created'), 'the replay');
        const after = (events: SseEvent[]) => {
          const index = events.findIndex((e) => e.id === lastSeen);
          return events.slice(index + 1).filter((e) => e.id).map((e) => e.id);
        };
        const expected = watcher.events.filter((e) => e.id).map((e) => e.id);
        const replayed = resumed.events.filter((e) => e.id && e.event !== 'ready').map((e) => e.id);
        assert.deepEqual(replayed, after(watcher.events).slice(0, replayed.length), 'the replay is exactly what followed');
        assert.ok(expected.includes(lastSeen));
        for (const name of names.slice(1)) assert.deepEqual(typesFor(resumed.events, name), ['container.created']);
        assert.deepEqual(typesFor(resumed.events, names[0]!), [], 'nothing before Last-Event-ID is sent again');
      } finally {
        await resumed.close();
      }

      const stale = await openEvents(kai, { 'last-event-id': 'previous-run-7' });
      try {
        await stale.waitFor((events) => events.some((e) => e.event === 'resync'), 'a resync for an unknown id');
      } finally {
        await stale.close();
      }
    } finally {
      await watcher.close();
      await early.close();
    }
  });

  it('needs credentials; viewers may read', async () => {
    const anonymous = await SseClient.open(`${kai.url}/api/events`);
    assert.equal(anonymous.status, 401);
    assert.equal(JSON.parse(anonymous.events[0]!.data).error.code, 'UNAUTHORIZED');
    assert.equal((await kai.request('POST', '/api/users', { username: `viewer${uniqueId()}`, password: 'viewer-password', role: 'viewer' })).status, 201);
    const users = (await kai.request('GET', '/api/users')).body.data.users as Array<{ username: string; role: string }>;
    const viewer = users.find((user) => user.role === 'viewer')!;
    const session = await kai.login(viewer.username, 'viewer-password');
    const viewerStream = await SseClient.open(`${kai.url}/api/events`, { authorization: `Bearer ${session.token}` });
    assert.equal(viewerStream.status, 200);
    await viewerStream.close();
  });

  it('reports the event subscription in /api/health', async () => {
    const health = await kai.anonymous('GET', '/api/health');
    assert.equal(health.status, 200);
    assert.deepEqual(Object.keys(health.body.data.services).sort(), ['api', 'database', 'docker']);
    assert.equal(health.body.data.events.state, 'connected');
    assert.equal(health.body.data.events.lastError, null);
  });
});

describe('closing Kai ends open event streams', () => {
  it('app.close() returns promptly and the client sees the end', async () => {
    const kai = await startKai();
    const stream = await openEvents(kai);
    await stream.waitFor((events) => events.some((e) => e.event === 'ready'), 'ready');
    await kai.close();
    await stream.waitForEnd(5_000);
    await stream.close();
  });
});

describe('when the engine goes away and comes back', () => {
  const proxy = new EngineProxy();
  let kai: TestKai;
  let stream: SseClient;

  before(async () => {
    await proxy.set('up');
    kai = await startKai({ DOCKER_HOST: proxy.dockerHost });
    stream = await openEvents(kai);
  });
  after(async () => {
    await stream.close();
    await proxy.set('up');
    await kai.close();
    await proxy.stop();
  });

  it('reconnects and reports what changed while it was gone, flagged as reconciled', async () => {
    const [stays, stops, removed, appears] = ['stays', 'stops', 'removed', 'appears'].map((n) => `${kai.prefix}-${n}`) as [string, string, string, string];
    await eventually(async () => (await kai.anonymous('GET', '/api/health')).body.data?.events?.state === 'connected', 'the first connection');
    for (const name of [stays, stops, removed]) await runLabelled(kai, name, TEST_IMAGE);
    await stream.waitFor((events) => [stays, stops, removed].every((name) => typesFor(events, name).includes('container.started')), 'the starts');

    await proxy.set('down');
    const down = await eventually(async () => {
      const health = await apiRequest(kai.url, 'GET', '/api/health');
      return health.body.error?.details?.events?.state === 'disconnected' ? health : undefined;
    }, 'health to report the lost subscription');
    assert.equal(down.status, 503);
    assert.equal(typeof down.body.error.details.events.lastError, 'string');

    await dockerCli('stop', '-t', '1', stops);
    await dockerCli('rm', '-f', removed);
    await runLabelled(kai, appears, TEST_IMAGE);
    const before = stream.events.length;
    await proxy.set('up');

    await stream.waitFor(
      (events) => {
        const later = events.slice(before);
        return hasTypes(stops, 'container.stopped')(later) && hasTypes(removed, 'container.deleted')(later) && hasTypes(appears, 'container.created', 'container.started')(later);
      },
      'the reconciled changes',
    );
    const later = stream.events.slice(before);
    for (const event of later.filter((e) => e.data?.container)) assert.equal(event.data.reconciled, true, `${event.event} ${event.data.container.name}`);
    assert.deepEqual(typesFor(later, stays), [], 'an unchanged container is not reported');
    const stopped = later.find((e) => e.event === 'container.stopped')!;
    assert.equal(typeof stopped.data.exitCode, 'number');

    const health = await eventually(async () => {
      const response = await kai.anonymous('GET', '/api/health');
      return response.body.data?.events?.state === 'connected' ? response : undefined;
    }, 'health to report the subscription back');
    assert.ok(health.body.data.events.reconnects >= 1);

    // Live events flow again after the reconnect.
    await dockerCli('stop', '-t', '1', stays);
    await stream.waitFor(hasTypes(stays, 'container.stopped'), 'a live event after the reconnect');
  });
});

describe('Changes made while Kai was not running', () => {
  it('are reported as reconciled events when Kai starts again, to webhooks too', { timeout: 90_000 }, async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { WebhookReceiver } = await import('./support/webhook-receiver.js');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'kai-restart-'));
    const receiver = new WebhookReceiver();
    await receiver.start();
    const first = await startKai({}, { dataDir });
    const env = { KAI_INSTANCE: first.instance, DOCKER_NETWORK: first.config.dockerNetwork, KAI_ADMIN_PASSWORD: '' };
    let second: TestKai | undefined;
    try {
      const hook = await first.request('POST', '/api/settings/webhooks', { url: receiver.url, events: ['container.stopped', 'container.deleted', 'container.created'] });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      receiver.secret = hook.body.data.secret;
      const keep = `${first.prefix}-keep`;
      const gone = `${first.prefix}-gone`;
      for (const name of [keep, gone]) assert.equal((await first.request('POST', '/api/flexy', { name, start: true })).status, 201);
      // Let the watcher record what it knows, then stop Kai (not its containers).
      await new Promise((resolve) => setTimeout(resolve, 600));
      await first.app.close();
      first.db.close();

      await dockerCli('stop', '-t', '1', keep);
      await dockerCli('rm', '-f', gone);
      const added = `${first.prefix}-added`;
      await runLabelled(first, added, TEST_IMAGE);

      second = await startKai(env, { dataDir });
      const byType = (type: string, name: string) => receiver.ofType(type).some((r) => r.body?.data?.container?.name === name);
      await eventually(
        () => byType('container.stopped', keep) && byType('container.deleted', gone) && byType('container.created', added),
        'the changes made while Kai was down, delivered after it started',
        30_000,
      );
      const whileDown = [
        ...receiver.ofType('container.stopped').filter((r) => r.body?.data?.container?.name === keep),
        ...receiver.ofType('container.deleted').filter((r) => r.body?.data?.container?.name === gone),
        ...receiver.ofType('container.created').filter((r) => r.body?.data?.container?.name === added),
      ];
      assert.equal(whileDown.length, 3, 'each change once');
      for (const received of whileDown) assert.equal(received.body.data.reconciled, true, received.body.type);
    } finally {
      await receiver.stop();
      if (second) await second.close();
      // Already closed above on the normal path; this removes its folders (and anything left on a failure).
      await first.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
