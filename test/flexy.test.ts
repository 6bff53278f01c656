import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, dockerCli, removeByName } from './support/docker.js';
import { assertError, containerApiTests } from './support/container-api-suite.js';
import { startKai, TEST_IMAGE, type TestKai } from './support/kai.js';


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

  containerApiTests({
    kai: () => kai,
    startAnother: () => startKai(),
    count: async (name) => (await docker.listContainers({ all: true, filters: { name: [name] } })).filter((c) => c.Names.includes(`/${name}`)).length,
    mountSource: async (name) => (await docker.getContainer(name).inspect()).HostConfig.Mounts?.[0]?.Source,
    keepsExitCode: true,
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
