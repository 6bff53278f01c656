import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerApiTests } from './support/container-api-suite.js';
import { FLEXY_IMAGE, startKai, TEST_IMAGE, type TestKai } from './support/kai.js';
import { eventually, SseClient } from './support/sse.js';
import { ensureWebBuilt, launchBrowser } from './support/browser.js';
import { useSwarmCluster, type SwarmCluster } from './support/swarm.js';
import { RecordingSocket } from './support/ws.js';

/**
 * KAI_RUNTIME=swarm against a real three-node Swarm (scripts/swarm-cluster.sh:
 * one dockerd per network namespace). Sandboxes are reached through the
 * ports their tasks publish on their node's address, never container addresses.
 */
describe('Swarm runtime', { timeout: 900_000 }, () => {
  let cluster: SwarmCluster;
  let kai: TestKai;
  let events: SseClient;
  const [manager, worker2, worker3] = ['kai-node1', 'kai-node2', 'kai-node3'];

  const details = async (name: string) => (await kai.request('GET', `/api/flexy/${name}`)).body.data;
  const create = async (body: Record<string, unknown>) => {
    const response = await kai.request('POST', '/api/flexy', body);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body.data;
  };
  const remove = async (...names: string[]) => {
    for (const name of names) await kai.request('DELETE', `/api/flexy/${name}`);
  };
  const eventFor = (type: string, name: string, extra: (data: { container: { status: string } }) => boolean = () => true) =>
    eventually(() => events.events.find((e) => e.event === type && e.data.container.name === name && extra(e.data)), `${type} of ${name}`, 90_000);
  const shellText = async (name: string) => {
    const response = await fetch(`${kai.url}/flexy/${name}/shell/`, { headers: { Authorization: `Bearer ${kai.admin.token}` } });
    return response.status === 200 ? response.text() : `status ${response.status}`;
  };

  const shellAnswers = (name: string, timeoutMs = 10_000) =>
    eventually(async () => /kai test image/.test(await shellText(name)), `the shell of ${name} through Kai`, timeoutMs);

  before(async () => {
    cluster = await useSwarmCluster();
    kai = await startKai(cluster.env);
    events = await SseClient.open(`${kai.url}/api/events`, { authorization: `Bearer ${kai.admin.token}` });
  });
  after(async () => {
    await events?.close();
    await kai?.close();
    await cluster?.release();
  });


  it('lists the cluster nodes with role, state, resources and sandbox counts', async () => {
    const response = await kai.request('GET', '/api/nodes');
    assert.equal(response.status, 200);
    const nodes = response.body.data.nodes as Array<Record<string, unknown>>;
    assert.deepEqual(nodes.map((node) => node.hostname), [manager, worker2, worker3]);
    assert.deepEqual(nodes.map((node) => node.role), ['manager', 'worker', 'worker']);
    assert.deepEqual(nodes.map((node) => node.address), ['10.231.0.11', '10.231.0.12', '10.231.0.13']);
    for (const node of nodes) {
      assert.equal(node.state, 'ready');
      assert.equal(node.availability, 'active');
      assert.ok((node.cpus as number) > 0 && (node.memoryBytes as number) > 0);
      assert.equal(node.sandboxes, 0);
    }
    const health = await kai.request('GET', '/api/health');
    assert.equal(health.status, 200);
  });

  it('refuses to run sandboxes through an engine that is not a manager, and says so in /api/ready', async () => {
    const workerEngine = cluster.env.KAI_SWARM_NODE_ENGINES!.split(',').find((pair) => pair.startsWith(`${worker2}=`))!.split('=')[1]!;
    const onWorker = await startKai({ ...cluster.env, DOCKER_HOST: workerEngine });
    try {
      const ready = await onWorker.request('GET', '/api/ready');
      assert.equal(ready.status, 503, JSON.stringify(ready.body));
      const create = await onWorker.request('POST', '/api/flexy', { name: `${onWorker.prefix}-w` });
      assert.equal(create.status, 503);
      assert.match(create.body.error.message, /not a Swarm manager/);
      assert.equal(await cluster.cli('service', 'ls', '-q', '--filter', `name=${onWorker.prefix}-w`), '');
    } finally {
      await onWorker.close();
    }
  });

  it("needs a node's own engine for terminals and stats there, and says which node and setting", async () => {
    const { KAI_SWARM_NODE_ENGINES: _engines, ...withoutEngines } = cluster.env;
    const partial = await startKai(withoutEngines);
    try {
      const [onWorker, onManager] = [`${partial.prefix}-w`, `${partial.prefix}-m`];
      assert.equal((await partial.request('POST', '/api/flexy', { name: onWorker, node: worker2, start: true })).status, 201);
      assert.equal((await partial.request('POST', '/api/flexy', { name: onManager, node: manager, start: true })).status, 201);
      const refused = await partial.request('GET', `/api/flexy/${onWorker}/stats`);
      assert.equal(refused.status, 502, JSON.stringify(refused.body));
      assert.match(refused.body.error.message, /node kai-node2.*KAI_SWARM_NODE_ENGINES/);
      // The manager Kai talks to serves its own node.
      assert.equal((await partial.request('GET', `/api/flexy/${onManager}/stats`)).status, 200);
    } finally {
      await partial.close();
    }
  });

  it('runs the container lifecycle as a one-replica service: created, running, stopped, restarted, deleted, with events', async () => {
    const name = `${kai.prefix}-life`;
    const folder = path.join(kai.hostRoot, 'life');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'hello.txt'), 'from the host');
    const created = await create({ name, hostPath: folder, env: { GREETING: 'hi' } });
    assert.equal(created.status, 'created');
    assert.equal(created.hostPath, folder);
    const service = JSON.parse(await cluster.cli('service', 'inspect', name))[0];
    assert.equal(service.Spec.Mode.Replicated.Replicas, 0);
    assert.equal(service.Spec.Labels['kai.instance'], kai.instance);
    let info = await details(name);
    assert.equal(info.status, 'created');
    assert.equal(info.node, null);
    assert.deepEqual(info.volumes, [{ hostPath: folder, containerPath: '/workspace', mode: 'rw' }]);
    assert.deepEqual(info.envKeys, ['GREETING']);

    const start = await kai.request('POST', `/api/flexy/${name}/start`);
    assert.equal(start.status, 200, JSON.stringify(start.body));
    info = await details(name);
    assert.equal(info.status, 'running');
    assert.ok(cluster.hostnames.includes(info.node.hostname), JSON.stringify(info.node));
    const shell = info.ports.find((port: { containerPort: number }) => port.containerPort === 9681);
    assert.ok(shell && shell.hostPort > 0, JSON.stringify(info.ports));
    assert.match(shell.hostIp, /^10\.231\.0\.1[123]$/);
    await shellAnswers(name);
    const running = await kai.request('GET', '/api/flexy?status=running&limit=100');
    assert.ok(running.body.data.containers.some((item: { name: string }) => item.name === name));

    // The folder is mounted from the node the task runs on (the namespaces share this machine's files).
    const terminal = new RecordingSocket(`${kai.url.replace('http', 'ws')}/api/flexy/${name}/terminal`, [], {
      headers: { Authorization: `Bearer ${kai.admin.token}`, origin: kai.url },
    });
    await terminal.open();
    terminal.socket.send(Buffer.from('cat hello.txt; echo "sum=$((40+2)) $GREETING"\n'));
    await terminal.until(() => terminal.text().includes('from the host') && terminal.text().includes('sum=42 hi'), 'terminal output on the node');
    terminal.close();

    const stats = await kai.request('GET', `/api/flexy/${name}/stats`);
    assert.equal(stats.status, 200, JSON.stringify(stats.body));
    assert.ok(stats.body.data.memory.usedBytes > 0);
    assert.equal(stats.body.data.id, info.id);

    const firstTask = await cluster.cli('service', 'ps', '-q', '--no-trunc', '--filter', 'desired-state=running', name);
    assert.equal((await kai.request('POST', `/api/flexy/${name}/restart`)).status, 200);
    const afterRestart = await cluster.cli('service', 'ps', '-q', '--no-trunc', '--filter', 'desired-state=running', name);
    assert.notEqual(afterRestart, firstTask, 'a restart runs a new task');
    assert.equal((await details(name)).status, 'running');

    assert.equal((await kai.request('POST', `/api/flexy/${name}/stop`)).status, 200);
    info = await details(name);
    assert.equal(info.status, 'stopped');
    assert.deepEqual(info.ports, []);
    assert.equal(JSON.parse(await cluster.cli('service', 'inspect', name))[0].Spec.Mode.Replicated.Replicas, 0);
    assert.equal((await kai.request('GET', `/flexy/${name}/shell/`)).status, 409);

    assert.equal((await kai.request('DELETE', `/api/flexy/${name}`)).status, 200);
    assert.equal((await kai.request('GET', `/api/flexy/${name}`)).status, 404);
    assert.equal(await cluster.cli('service', 'ls', '-q', '--filter', `name=${name}`), '');

    for (const type of ['container.created', 'container.started', 'container.restarted', 'container.stopped', 'container.deleted']) {
      await eventFor(type, name);
    }
  });

  it('refuses bad input with enveloped errors and loses nothing', async () => {
    const name = `${kai.prefix}-dup`;
    await create({ name });
    const duplicate = await kai.request('POST', '/api/flexy', { name });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.error.code, 'CONFLICT');
    const badNode = await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-nowhere`, node: 'no-such-node' });
    assert.equal(badNode.status, 400);
    assert.match(badNode.body.error.message, /no node "no-such-node"/);
    const badNodeSyntax = await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-bad`, node: '../x' });
    assert.equal(badNodeSyntax.status, 400);
    for (const route of ['', '/start', '/stop', '/restart', '/logs', '/stats']) {
      const method = route === '' || route === '/logs' || route === '/stats' ? 'GET' : 'POST';
      const missing = await kai.request(method, `/api/flexy/${kai.prefix}-absent${route}`);
      assert.equal(missing.status, 404, `${method} ${route}`);
      assert.equal(missing.body.error.code, 'CONTAINER_NOT_FOUND');
    }
    const notRunning = await kai.request('GET', `/api/flexy/${name}/stats`);
    assert.equal(notRunning.status, 409);
    const list = await kai.request('GET', '/api/flexy?limit=100');
    assert.deepEqual(list.body.data.containers.filter((item: { name: string }) => item.name.startsWith(kai.prefix)).map((item: { name: string }) => item.name), [name]);
    await remove(name);
  });

  it('runs sandboxes pinned to two different nodes at the same time; both shells answer through Kai', async () => {
    const [a, b] = [`${kai.prefix}-pin2`, `${kai.prefix}-pin3`];
    await create({ name: a, node: worker2, start: true });
    const nodes = (await kai.request('GET', '/api/nodes')).body.data.nodes as Array<{ id: string; hostname: string }>;
    await create({ name: b, node: nodes.find((node) => node.hostname === worker3)!.id, start: true });
    const [infoA, infoB] = [await details(a), await details(b)];
    assert.equal(infoA.node.hostname, worker2);
    assert.equal(infoB.node.hostname, worker3);
    assert.equal(infoA.status, 'running');
    assert.equal(infoB.status, 'running');
    assert.equal(infoA.ports[0].hostIp, '10.231.0.12');
    assert.equal(infoB.ports[0].hostIp, '10.231.0.13');
    // A task counts as running once its container started; the server inside takes a moment to listen.
    await shellAnswers(a);
    await shellAnswers(b);
    const counts = (await kai.request('GET', '/api/nodes')).body.data.nodes as Array<{ hostname: string; sandboxes: number }>;
    assert.deepEqual(counts.map((node) => node.sandboxes), [0, 1, 1]);
    await remove(a, b);
  });

  it('remembers a catalog project\'s node and launches it there', async () => {
    const folder = path.join(kai.hostRoot, 'project');
    mkdirSync(folder);
    const unknown = await kai.request('POST', '/api/catalog/flexy', { name: 'Nowhere project', hostPath: folder, node: 'nowhere-node' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.details.fields[0].field, 'body.node');
    const item = await kai.request('POST', '/api/catalog/flexy', { name: 'Pinned project', hostPath: folder, node: worker3 });
    assert.equal(item.status, 201, JSON.stringify(item.body));
    assert.equal(item.body.data.node, worker3);
    const badNode = await kai.request('POST', `/api/catalog/flexy/${item.body.data.id}/launch`, { node: 'nowhere-node' });
    assert.equal(badNode.status, 400);
    // The item remembers its node: a launch without one is pinned there.
    const launched = await kai.request('POST', `/api/catalog/flexy/${item.body.data.id}/launch`, { name: `${kai.prefix}-cat` });
    assert.equal(launched.status, 201, JSON.stringify(launched.body));
    assert.equal(launched.body.data.container.status, 'running');
    assert.equal(launched.body.data.container.node.hostname, worker3);
    assert.equal(launched.body.data.container.hostPath, folder);
    await remove(`${kai.prefix}-cat`);
  });

  it('lets the console pin a new sandbox to a node and shows where it runs', async () => {
    ensureWebBuilt();
    const browser = await launchBrowser();
    const name = `${kai.prefix}-ui`;
    try {
      const { page } = browser;
      await page.goto(`${kai.url}/login`);
      await page.getByLabel('Username').fill(kai.admin.username);
      await page.getByLabel('Password').fill(kai.admin.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'New sandbox' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Name').fill(name);
      const nodes = (await kai.request('GET', '/api/nodes')).body.data.nodes as Array<{ id: string; hostname: string }>;
      await dialog.getByLabel('Node').waitFor(); // shown once the dialog has fetched the nodes
      const options = await dialog.getByLabel('Node').locator('option').allTextContents();
      assert.deepEqual(options.map((text) => text.split(' ')[0]), ['Any', manager, worker2, worker3]);
      assert.equal(nodes.length, 3);
      await dialog.getByLabel('Node').selectOption(worker3);
      await dialog.getByRole('button', { name: 'Create sandbox' }).click();
      await dialog.waitFor({ state: 'detached' });
      assert.equal((await details(name)).node.hostname, worker3);
      await page.goto(`${kai.url}/sandboxes/${name}`);
      await page.getByRole('heading', { name }).waitFor();
      await page.locator('dt', { hasText: 'Node' }).waitFor();
      assert.equal(await page.locator('dt:has-text("Node") + dd').textContent(), worker3);
      // Expected: the 401 of the console asking "who am I?" before signing in.
      assert.deepEqual(browser.errors.filter((error) => !/status of 401 .*\/api\/auth\/me\)$/.test(error)), []);
    } finally {
      await browser.close();
      await remove(name);
    }
  });

  it('serves a pinned Flexy sandbox (ttyd) and its logs from a worker', async () => {
    const name = `${kai.prefix}-ttyd`;
    await create({ name, image: FLEXY_IMAGE, node: worker3, start: true });
    await eventually(async () => /<html/i.test(await shellText(name)), 'ttyd through Kai', 30_000);
    const logs = await eventually(async () => {
      const lines = (await kai.request('GET', `/api/flexy/${name}/logs?tail=all`)).body.data?.lines as Array<{ line: string }> | undefined;
      return lines?.some((line) => /ttyd/i.test(line.line)) ? lines : undefined;
    }, 'ttyd in the service logs', 30_000);
    assert.ok(logs.length > 0);
    await remove(name);
  });

  it('spreads unpinned sandboxes over the nodes', async () => {
    const names = [0, 1, 2].map((index) => `${kai.prefix}-spread${index}`);
    for (const name of names) await create({ name, image: TEST_IMAGE, start: true });
    const placed = new Set<string>();
    for (const name of names) placed.add((await details(name)).node.hostname);
    assert.ok(placed.size >= 2, `all on ${[...placed].join(', ')}`);
    await remove(...names);
  });

  it('names the node when the image is missing there', async () => {
    const name = `${kai.prefix}-noimage`;
    const response = await kai.request('POST', '/api/flexy', { name, image: 'kai-absent-image:1', node: worker2, start: true });
    assert.equal(response.status, 502, JSON.stringify(response.body));
    assert.match(response.body.error.message, /image "kai-absent-image:1" is not on node kai-node2/);
    const info = await details(name);
    assert.equal(info.status, 'error');
    assert.match(info.statusReason, /kai-node2/);
    await remove(name);
  });

  it('moves unpinned sandboxes off a drained node', async () => {
    const name = `${kai.prefix}-drain`;
    await create({ name, start: true });
    const from = (await details(name)).node.hostname as string;
    try {
      await cluster.cli('node', 'update', '--availability', 'drain', from);
      const moved = await eventually(async () => {
        const info = await details(name);
        return info.status === 'running' && info.node.hostname !== from ? info : undefined;
      }, 'the sandbox to run on another node', 60_000);
      await shellAnswers(name);
      const drained = ((await kai.request('GET', '/api/nodes')).body.data.nodes as Array<{ hostname: string; availability: string }>).find((node) => node.hostname === from);
      assert.equal(drained?.availability, 'drain');
      assert.notEqual(moved.node.hostname, from);
    } finally {
      await cluster.cli('node', 'update', '--availability', 'active', from);
    }
    await remove(name);
  });

  it('turns a sandbox error when its worker\'s engine dies, with an event, and recovers when the worker is back', async () => {
    const name = `${kai.prefix}-crash`;
    await create({ name, node: worker2, start: true });
    assert.equal((await details(name)).status, 'running');
    await cluster.stopEngine(2);
    try {
      const died = await eventFor('container.died', name, (data) => data.container.status === 'error');
      assert.equal(died.data.container.status, 'error');
      const info = await details(name);
      assert.equal(info.status, 'error');
      assert.match(info.statusReason, /kai-node2/);
      const down = ((await kai.request('GET', '/api/nodes')).body.data.nodes as Array<{ hostname: string; state: string }>).find((node) => node.hostname === worker2);
      assert.equal(down?.state, 'down');
    } finally {
      await cluster.startEngine(2);
    }
    const startedAgain = await eventually(
      () => events.events.filter((e) => e.event === 'container.started' && e.data.container.name === name).length >= 2,
      'container.started again after the worker came back',
      120_000,
    );
    assert.ok(startedAgain);
    await shellAnswers(name, 60_000);
    assert.equal((await details(name)).node.hostname, worker2);
    await remove(name);
  });

  // Last, so the node counts above start from an empty cluster.
  containerApiTests({
    kai: () => kai,
    startAnother: () => startKai(cluster.env),
    count: async (name) => (await cluster.manager.listServices({ filters: { name: [name] } })).filter((service) => service.Spec?.Name === name).length,
    mountSource: async (name) => (await cluster.manager.getService(name).inspect()).Spec.TaskTemplate.ContainerSpec.Mounts?.[0]?.Source,
    // Scaling to zero removes the task, and with it the exit code and end time.
    keepsExitCode: false,
  });
});
