import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, dockerCli, removeByName } from './support/docker.js';
import { startKai, TEST_IMAGE, type TestKai } from './support/kai.js';

function assertError(response: { status: number; body: any }, status: number, code: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.success, false);
  assert.equal(response.body.error.code, code);
  assert.equal(typeof response.body.error.message, 'string');
  assert.equal(typeof response.body.timestamp, 'string');
}

describe('Flexy containers', () => {
  let kai: TestKai;
  let project: string;
  const outsider = `outsider-${process.pid}-${Date.now()}`;

  before(async () => {
    kai = await startKai();
    project = path.join(kai.hostRoot, 'project');
    mkdirSync(project);
    writeFileSync(path.join(project, 'keep.txt'), 'do not delete');
  });

  after(async () => {
    await removeByName(outsider);
    await kai.close();
  });

  it('creates a container with folder, env, network and a loopback-only port, as docker inspect shows', async () => {
    const name = `${kai.prefix}-full`;
    const created = await kai.request('POST', '/api/flexy', {
      name,
      hostPath: project,
      containerPath: '/work/src',
      env: { FOO: 'bar', WITH_EQUALS: 'a=b' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.success, true);
    assert.equal(created.body.message, 'Container created successfully');
    const data = created.body.data;
    assert.deepEqual(Object.keys(data).sort(), ['containerPath', 'createdAt', 'hostPath', 'id', 'image', 'name', 'ports', 'status']);
    assert.deepEqual(data.ports, [], 'ports are assigned when the container starts');
    assert.equal(data.name, name);
    assert.equal(data.status, 'created');
    assert.equal(data.image, TEST_IMAGE);
    assert.equal(data.hostPath, project);
    assert.equal(data.containerPath, '/work/src');
    assert.ok(!Number.isNaN(Date.parse(data.createdAt)));

    const info = JSON.parse(await dockerCli('inspect', name))[0];
    assert.equal(info.Id, data.id);
    assert.deepEqual(info.HostConfig.Binds ?? [], [], 'Binds must never be used');
    const mount = info.HostConfig.Mounts[0];
    assert.equal(mount.Type, 'bind');
    assert.equal(mount.Source, project);
    assert.equal(mount.Target, '/work/src');
    assert.ok(info.Config.Env.includes('FOO=bar'));
    assert.ok(info.Config.Env.includes('WITH_EQUALS=a=b'));
    assert.equal(info.HostConfig.NetworkMode, kai.config.dockerNetwork);
    assert.deepEqual(info.HostConfig.PortBindings['9681/tcp'], [{ HostIp: '127.0.0.1', HostPort: '' }]);
    assert.deepEqual(info.HostConfig.PortBindings['8080/tcp'], [{ HostIp: '127.0.0.1', HostPort: '' }]);
    assert.equal(info.Config.Labels['kai.instance'], kai.instance);
  });

  it('starts with start: true, publishes 9681 on 127.0.0.1 only, and the details show ports and volumes', async () => {
    const name = `${kai.prefix}-started`;
    const created = await kai.request('POST', '/api/flexy', { name, hostPath: project, start: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.data.status, 'running');

    const details = await kai.request('GET', `/api/flexy/${name}`);
    assert.equal(details.status, 200);
    assert.equal(details.body.message, 'Container details retrieved successfully');
    const data = details.body.data;
    assert.equal(data.status, 'running');
    assert.equal(data.containerPath, '/workspace');
    assert.deepEqual(data.volumes, [{ hostPath: project, containerPath: '/workspace', mode: 'rw' }]);
    assert.deepEqual(data.ports.map((p: { containerPort: number }) => p.containerPort).sort(), [8080, 9681]);
    for (const port of data.ports) {
      assert.equal(port.hostIp, '127.0.0.1', 'published on loopback only');
      assert.ok(port.hostPort > 0);
    }
    const shellPort = data.ports.find((p: { containerPort: number }) => p.containerPort === 9681);
    assert.equal(data.network, kai.config.dockerNetwork);

    // The list carries the same published ports, from its single engine call.
    const listed = (await kai.request('GET', '/api/flexy?limit=100')).body.data.containers.find((c: { name: string }) => c.name === name);
    assert.deepEqual(
      listed.ports.map((p: { containerPort: number; hostPort: number }) => `${p.containerPort}:${p.hostPort}`).sort(),
      data.ports.map((p: { containerPort: number; hostPort: number }) => `${p.containerPort}:${p.hostPort}`).sort(),
    );

    // The published port answers on loopback (the test image serves HTTP on 9681).
    const page = await fetch(`http://127.0.0.1:${shellPort.hostPort}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /kai test image/);
  });

  it('finds a container by id, unique id prefix and name', async () => {
    const name = `${kai.prefix}-lookup`;
    const created = await kai.request('POST', '/api/flexy', { name });
    const id: string = created.body.data.id;
    for (const ref of [id, id.slice(0, 12), name]) {
      const response = await kai.request('GET', `/api/flexy/${ref}`);
      assert.equal(response.status, 200, ref);
      assert.equal(response.body.data.id, id);
    }
  });

  it('answers 404 CONTAINER_NOT_FOUND for unknown ids on every container route', async () => {
    const missing = `${kai.prefix}-missing`;
    assertError(await kai.request('GET', `/api/flexy/${missing}`), 404, 'CONTAINER_NOT_FOUND');
    assertError(await kai.request('DELETE', `/api/flexy/${missing}`), 404, 'CONTAINER_NOT_FOUND');
    for (const action of ['start', 'stop', 'restart']) {
      assertError(await kai.request('POST', `/api/flexy/${missing}/${action}`), 404, 'CONTAINER_NOT_FOUND');
    }
  });

  it('treats a same-named container made outside Kai as a conflict and otherwise ignores it', async () => {
    await dockerCli('create', '--name', outsider, TEST_IMAGE);
    assertError(await kai.request('POST', '/api/flexy', { name: outsider }), 409, 'CONFLICT');
    assertError(await kai.request('GET', `/api/flexy/${outsider}`), 404, 'CONTAINER_NOT_FOUND');
    assertError(await kai.request('DELETE', `/api/flexy/${outsider}`), 404, 'CONTAINER_NOT_FOUND');
    assertError(await kai.request('POST', `/api/flexy/${outsider}/start`), 404, 'CONTAINER_NOT_FOUND');
    const list = await kai.request('GET', '/api/flexy?limit=100');
    assert.ok(!list.body.data.containers.some((c: { name: string }) => c.name === outsider));
    // Still there and untouched.
    assert.equal((await docker.getContainer(outsider).inspect()).State.Status, 'created');
  });

  it('gives exactly one 201 for twenty concurrent creates of one name', async () => {
    const name = `${kai.prefix}-race`;
    const responses = await Promise.all(Array.from({ length: 20 }, () => kai.request('POST', '/api/flexy', { name })));
    const statuses = responses.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, statuses.join(','));
    for (const response of responses.filter((r) => r.status !== 201)) assertError(response, 409, 'CONFLICT');
    const same = await docker.listContainers({ all: true, filters: { name: [name] } });
    assert.equal(same.length, 1);
  });

  it('rejects a duplicate name with 409', async () => {
    const name = `${kai.prefix}-dup`;
    assert.equal((await kai.request('POST', '/api/flexy', { name })).status, 201);
    assertError(await kai.request('POST', '/api/flexy', { name }), 409, 'CONFLICT');
  });

  it('starts, stops and restarts idempotently with the reference bodies', async () => {
    const name = `${kai.prefix}-cycle`;
    const id = (await kai.request('POST', '/api/flexy', { name })).body.data.id;
    const expect = async (action: string, status: string, message: string, after: string) => {
      const response = await kai.request('POST', `/api/flexy/${name}/${action}`);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.deepEqual(response.body.data, { id, status });
      assert.equal(response.body.message, message);
      assert.equal((await kai.request('GET', `/api/flexy/${id}`)).body.data.status, after);
    };
    await expect('start', 'starting', 'Container start request submitted', 'running');
    await expect('start', 'starting', 'Container start request submitted', 'running');
    await expect('restart', 'restarting', 'Container restart request submitted', 'running');
    await expect('stop', 'stopping', 'Container stop request submitted', 'stopped');
    await expect('stop', 'stopping', 'Container stop request submitted', 'stopped');
    const stopped = (await kai.request('GET', `/api/flexy/${id}`)).body.data;
    assert.equal(typeof stopped.exitCode, 'number');
    assert.ok(stopped.finishedAt);
  });

  it('deletes a running container and leaves the host folder alone', async () => {
    const name = `${kai.prefix}-delete`;
    const created = await kai.request('POST', '/api/flexy', { name, hostPath: project, start: true });
    const response = await kai.request('DELETE', `/api/flexy/${name}`);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.data, { id: created.body.data.id });
    assert.equal(response.body.message, 'Container deleted successfully');
    await assert.rejects(docker.getContainer(name).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
    assert.deepEqual(readdirSync(project), ['keep.txt']);
    assertError(await kai.request('DELETE', `/api/flexy/${name}`), 404, 'CONTAINER_NOT_FOUND');
  });

  it('lists newest first with status filter, paging and total after filtering', async () => {
    const listKai = await startKai();
    try {
      const names = Array.from({ length: 5 }, (_, i) => `${listKai.prefix}-l${i}`);
      for (const name of names) {
        assert.equal((await listKai.request('POST', '/api/flexy', { name })).status, 201);
        // Docker's created times have nanosecond resolution; a pause keeps the order unambiguous.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await listKai.request('POST', `/api/flexy/${names[1]}/start`);
      await listKai.request('POST', `/api/flexy/${names[3]}/start`);

      const all = await listKai.request('GET', '/api/flexy');
      assert.equal(all.status, 200);
      assert.equal(all.body.message, 'Containers retrieved successfully');
      assert.equal(all.body.data.total, 5);
      assert.equal(all.body.data.limit, 10);
      assert.equal(all.body.data.offset, 0);
      assert.deepEqual(all.body.data.containers.map((c: { name: string }) => c.name), [...names].reverse());

      const page = await listKai.request('GET', '/api/flexy?limit=2&offset=1');
      assert.deepEqual(page.body.data.containers.map((c: { name: string }) => c.name), [names[3], names[2]]);
      assert.equal(page.body.data.total, 5);

      const running = await listKai.request('GET', '/api/flexy?status=running');
      assert.deepEqual(running.body.data.containers.map((c: { name: string }) => c.name), [names[3], names[1]]);
      assert.equal(running.body.data.total, 2);

      const created = await listKai.request('GET', '/api/flexy?status=created');
      assert.equal(created.body.data.total, 3);
      assert.equal((await listKai.request('GET', '/api/flexy?status=paused')).body.data.total, 0);

      await listKai.request('POST', `/api/flexy/${names[3]}/stop`);
      const stopped = await listKai.request('GET', '/api/flexy?status=stopped');
      assert.deepEqual(stopped.body.data.containers.map((c: { name: string; status: string }) => [c.name, c.status]), [[names[3], 'stopped']]);

      const beyond = await listKai.request('GET', '/api/flexy?offset=50');
      assert.deepEqual(beyond.body.data.containers, []);
      assert.equal(beyond.body.data.total, 5);
    } finally {
      await listKai.close();
    }
  });

  it('rejects bad list queries with 400 naming the field', async () => {
    const cases: Array<[string, string]> = [
      ['status=error', 'query.status'],
      ['status=bogus', 'query.status'],
      ['limit=0', 'query.limit'],
      ['limit=101', 'query.limit'],
      ['limit=abc', 'query.limit'],
      ['limit=1.5', 'query.limit'],
      ['limit=0x10', 'query.limit'],
      ['limit=1e1', 'query.limit'],
      ['offset=%20', 'query.offset'],
      ['offset=-1', 'query.offset'],
      ['sort=name', 'query.sort'],
    ];
    for (const [query, field] of cases) {
      const response = await kai.request('GET', `/api/flexy?${query}`);
      assertError(response, 400, 'VALIDATION_ERROR');
      assert.ok(
        response.body.error.details.fields.some((f: { field: string }) => f.field === field),
        `${query}: ${JSON.stringify(response.body.error.details)}`,
      );
    }
  });

  it('validates the create body and names the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{}, 'body.name'],
      [{ name: '' }, 'body.name'],
      [{ name: 'a' }, 'body.name'],
      [{ name: 'x'.repeat(65) }, 'body.name'],
      [{ name: 'bad name' }, 'body.name'],
      [{ name: '-leading' }, 'body.name'],
      [{ name: 42 }, 'body.name'],
      [{ name: `${kai.prefix}-v`, env: { '1BAD': 'x' } }, 'body.env.1BAD'],
      [{ name: `${kai.prefix}-v`, env: { 'A-B': 'x' } }, 'body.env.A-B'],
      [{ name: `${kai.prefix}-v`, env: { OK: 5 } }, 'body.env.OK'],
      [{ name: `${kai.prefix}-v`, env: ['A=B'] }, 'body.env'],
      [{ name: `${kai.prefix}-v`, hostPath: 'relative/path' }, 'body.hostPath'],
      [{ name: `${kai.prefix}-v`, containerPath: 'workspace' }, 'body.containerPath'],
      [{ name: `${kai.prefix}-v`, containerPath: '/' }, 'body.containerPath'],
      [{ name: `${kai.prefix}-v`, containerPath: '/a/../etc' }, 'body.containerPath'],
      [{ name: `${kai.prefix}-v`, image: 'Bad Image!' }, 'body.image'],
      [{ name: `${kai.prefix}-v`, start: 'yes' }, 'body.start'],
      [{ name: `${kai.prefix}-v`, privileged: true }, 'body.privileged'],
      [{ name: `${kai.prefix}-v`, hostPath: path.join(kai.hostRoot, 'nope') }, 'body.hostPath'],
    ];
    for (const [body, field] of cases) {
      const response = await kai.request('POST', '/api/flexy', body);
      assertError(response, 400, 'VALIDATION_ERROR');
      assert.ok(
        response.body.error.details.fields.some((f: { field: string }) => f.field === field),
        `${JSON.stringify(body)}: ${JSON.stringify(response.body.error)}`,
      );
    }
    const leftovers = await docker.listContainers({ all: true, filters: { name: [`${kai.prefix}-v`] } });
    assert.equal(leftovers.length, 0, 'no invalid create may leave a container');
  });

  it('confines hostPath to KAI_HOST_ROOT: traversal, symlinks out and prefix collisions are 403', async (t) => {
    const sibling = `${kai.hostRoot}-sibling`; // /tmp/kai-root-X-sibling shares the root's prefix
    mkdirSync(sibling, { recursive: true });
    t.after(() => rmSync(sibling, { recursive: true, force: true })); // kai.close() removes only the root
    symlinkSync('/etc', path.join(kai.hostRoot, 'link-out'));
    symlinkSync(project, path.join(kai.hostRoot, 'link-in'));
    writeFileSync(path.join(kai.hostRoot, 'a-file'), 'x');
    const denied = ['/etc', `${kai.hostRoot}/../`, `${project}/../../etc`, path.join(kai.hostRoot, 'link-out'), sibling];
    for (const hostPath of denied) {
      const response = await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-esc`, hostPath });
      assertError(response, 403, 'PERMISSION_DENIED');
      assert.ok(!JSON.stringify(response.body).includes('/etc/passwd'));
    }
    assertError(await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-esc`, hostPath: path.join(kai.hostRoot, 'a-file') }), 400, 'VALIDATION_ERROR');
    assertError(await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-esc`, hostPath: `${project}\u0000/x` }), 400, 'VALIDATION_ERROR');

    // A link that stays inside is followed, and the real folder is what gets mounted.
    const viaLink = await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-link`, hostPath: path.join(kai.hostRoot, 'link-in') });
    assert.equal(viaLink.status, 201, JSON.stringify(viaLink.body));
    assert.equal(viaLink.body.data.hostPath, project);
    const info = await docker.getContainer(`${kai.prefix}-link`).inspect();
    assert.equal(info.HostConfig.Mounts?.[0]?.Source, project);
  });

  it('refuses an absent image under KAI_PULL_POLICY=never with a message that says how to build it', async () => {
    const response = await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-noimg`, image: 'kai-no-such-image:never' });
    assertError(response, 400, 'VALIDATION_ERROR');
    assert.match(response.body.error.message, /never/);
    assert.match(response.body.error.message, /build/i);
    assert.equal(response.body.error.details.fields[0].field, 'body.image');
  });

  it('creates the network on demand when it was removed behind Kai\'s back', async () => {
    const netKai = await startKai();
    try {
      assert.equal((await netKai.request('POST', '/api/flexy', { name: `${netKai.prefix}-n1` })).status, 201);
      await netKai.request('DELETE', `/api/flexy/${netKai.prefix}-n1`);
      await docker.getNetwork(netKai.config.dockerNetwork).remove();
      // The engine accepts a create on a missing network and only fails the start.
      const again = await netKai.request('POST', '/api/flexy', { name: `${netKai.prefix}-n2`, start: true });
      assert.equal(again.status, 201, JSON.stringify(again.body));
      assert.equal(again.body.data.status, 'running');
      assert.equal((await docker.getNetwork(netKai.config.dockerNetwork).inspect()).Name, netKai.config.dockerNetwork);
    } finally {
      await netKai.close();
    }
  });
});
