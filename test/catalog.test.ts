import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker } from './support/docker.js';
import { startKai, type TestKai } from './support/kai.js';

describe('Flexy catalog', () => {
  let kai: TestKai;
  let projectA: string;
  let projectB: string;

  before(async () => {
    kai = await startKai();
    projectA = path.join(kai.hostRoot, 'alpha');
    projectB = path.join(kai.hostRoot, 'beta');
    mkdirSync(projectA);
    mkdirSync(projectB);
  });
  after(async () => kai.close());

  it('starts empty, adds items with the reference body, lists newest first', async () => {
    const empty = await kai.request('GET', '/api/catalog/flexy');
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body.data, { items: [] });
    assert.equal(empty.body.message, 'Catalog items retrieved successfully');

    const first = await kai.request('POST', '/api/catalog/flexy', { name: 'My Project', hostPath: projectA });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.message, 'Catalog item added successfully');
    assert.equal(first.body.data.name, 'My Project');
    assert.equal(first.body.data.hostPath, projectA);
    assert.equal(first.body.data.containerId, null);
    assert.equal(first.body.data.node, null);
    assert.ok(first.body.data.id);
    assert.ok(!Number.isNaN(Date.parse(first.body.data.createdAt)));

    const second = await kai.request('POST', '/api/catalog/flexy', { name: 'Second', hostPath: projectB });
    assert.equal(second.status, 201);
    const list = await kai.request('GET', '/api/catalog/flexy');
    assert.deepEqual(list.body.data.items.map((item: { name: string }) => item.name), ['Second', 'My Project']);
  });

  it('rejects duplicate names with 409 and bad bodies with 400 naming the field', async () => {
    const duplicate = await kai.request('POST', '/api/catalog/flexy', { name: 'My Project', hostPath: projectB });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.error.code, 'CONFLICT');

    const cases: Array<[unknown, string]> = [
      [{ hostPath: projectA }, 'body.name'],
      [{ name: '', hostPath: projectA }, 'body.name'],
      [{ name: '   ', hostPath: projectA }, 'body.name'],
      [{ name: 'x'.repeat(65), hostPath: projectA }, 'body.name'],
      [{ name: 'ok' }, 'body.hostPath'],
      [{ name: 'ok', hostPath: 'relative' }, 'body.hostPath'],
      [{ name: 'ok', hostPath: path.join(kai.hostRoot, 'missing') }, 'body.hostPath'],
      [{ name: 'ok', hostPath: projectA, extra: 1 }, 'body.extra'],
      [{ name: 'ok', hostPath: projectA, node: 'no-such-node' }, 'body.node'],
      [{ name: 'ok', hostPath: projectA, node: '../x' }, 'body.node'],
    ];
    for (const [body, field] of cases) {
      const response = await kai.request('POST', '/api/catalog/flexy', body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(response.body.error.code, 'VALIDATION_ERROR');
      assert.ok(response.body.error.details.fields.some((f: { field: string }) => f.field === field), JSON.stringify(response.body));
    }
    assert.equal((await kai.request('GET', '/api/catalog/flexy')).body.data.items.length, 2, 'nothing was added');
  });

  it('confines hostPath like container create (403 outside the root)', async () => {
    symlinkSync('/etc', path.join(kai.hostRoot, 'escape'));
    for (const hostPath of ['/etc', path.join(kai.hostRoot, 'escape'), `${kai.hostRoot}/../..`]) {
      const response = await kai.request('POST', '/api/catalog/flexy', { name: `escape ${hostPath}`, hostPath });
      assert.equal(response.status, 403, hostPath);
      assert.equal(response.body.error.code, 'PERMISSION_DENIED');
    }
  });

  it('answers 404 NOT_FOUND for unknown items', async () => {
    for (const [method, route] of [
      ['DELETE', '/api/catalog/flexy/no-such-item'],
      ['POST', '/api/catalog/flexy/no-such-item/launch'],
    ] as const) {
      const response = await kai.request(method, route);
      assert.equal(response.status, 404, route);
      assert.equal(response.body.error.code, 'NOT_FOUND');
    }
  });

  it('launches an item into a running sandbox, records it, and relaunch reuses it', async () => {
    const item = (await kai.request('POST', '/api/catalog/flexy', { name: 'Launch Me', hostPath: projectA })).body.data;
    const launched = await kai.request('POST', `/api/catalog/flexy/${item.id}/launch`);
    assert.equal(launched.status, 201, JSON.stringify(launched.body));
    const container = launched.body.data.container;
    assert.equal(launched.body.data.created, true);
    assert.equal(container.status, 'running');
    assert.equal(container.hostPath, projectA);
    assert.equal(container.containerPath, '/workspace');
    assert.match(container.name, /^launch-me-[0-9a-f]{6}$/);
    assert.equal(launched.body.data.item.containerId, container.id);

    const info = await docker.getContainer(container.id).inspect();
    assert.equal(info.HostConfig.Mounts?.[0]?.Source, projectA);
    assert.equal(info.HostConfig.Mounts?.[0]?.Target, '/workspace');

    const listed = (await kai.request('GET', '/api/catalog/flexy')).body.data.items.find((i: { id: string }) => i.id === item.id);
    assert.equal(listed.containerId, container.id);

    await kai.request('POST', `/api/flexy/${container.id}/stop`);
    const relaunch = await kai.request('POST', `/api/catalog/flexy/${item.id}/launch`, {});
    assert.equal(relaunch.status, 200);
    assert.equal(relaunch.body.data.created, false);
    assert.equal(relaunch.body.data.container.id, container.id);
    assert.equal(relaunch.body.data.container.status, 'running');
  });

  it('launches a new container when the recorded one was deleted, with a chosen name and env', async () => {
    const item = (await kai.request('POST', '/api/catalog/flexy', { name: 'Gone', hostPath: projectB })).body.data;
    const first = await kai.request('POST', `/api/catalog/flexy/${item.id}/launch`);
    await kai.request('DELETE', `/api/flexy/${first.body.data.container.id}`);
    const name = `${kai.prefix}-named`;
    const second = await kai.request('POST', `/api/catalog/flexy/${item.id}/launch`, { name, env: { PROJECT: 'gone' } });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.equal(second.body.data.container.name, name);
    assert.notEqual(second.body.data.container.id, first.body.data.container.id);
    assert.deepEqual(second.body.data.container.envKeys, ['PROJECT']);

    const bad = await kai.request('POST', `/api/catalog/flexy/${item.id}/launch`, { name: 'bad name' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.fields[0].field, 'body.name');
  });

  it('makes one container when the same item is launched twice at once', async () => {
    const item = (await kai.request('POST', '/api/catalog/flexy', { name: 'Twice', hostPath: projectA })).body.data;
    const [a, b] = await Promise.all([
      kai.request('POST', `/api/catalog/flexy/${item.id}/launch`),
      kai.request('POST', `/api/catalog/flexy/${item.id}/launch`),
    ]);
    assert.equal(a.body.data.container.id, b.body.data.container.id);
    const containers = await docker.listContainers({ all: true, filters: { label: [`kai.instance=${kai.instance}`, `kai.host-path=${projectA}`] } });
    assert.equal(containers.filter((c) => c.Names[0]?.startsWith('/twice-')).length, 1);
  });

  it('removing an item leaves its container running', async () => {
    const item = (await kai.request('POST', '/api/catalog/flexy', { name: 'Keep Container', hostPath: projectB })).body.data;
    const container = (await kai.request('POST', `/api/catalog/flexy/${item.id}/launch`)).body.data.container;
    const removed = await kai.request('DELETE', `/api/catalog/flexy/${item.id}`);
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.body.data, { id: item.id });
    assert.equal(removed.body.message, 'Catalog item removed successfully');
    assert.equal((await docker.getContainer(container.id).inspect()).State.Status, 'running');
    assert.equal((await kai.request('DELETE', `/api/catalog/flexy/${item.id}`)).status, 404);
  });
});
