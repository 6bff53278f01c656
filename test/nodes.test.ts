import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { docker } from './support/docker.js';
import { startKai, type TestKai } from './support/kai.js';

/** On one Docker engine, GET /api/nodes lists that engine and a `node` pin may only name it. */
describe('Nodes on a single Docker engine', () => {
  let kai: TestKai;

  before(async () => {
    kai = await startKai();
  });
  after(async () => kai.close());

  it('lists the engine itself as the one node, counting running sandboxes', async () => {
    const info = await docker.info();
    const name = `${kai.prefix}-n`;
    assert.equal((await kai.request('POST', '/api/flexy', { name, start: true })).status, 201);
    const response = await kai.request('GET', '/api/nodes');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.data.nodes, [
      {
        id: info.ID,
        hostname: info.Name,
        address: '127.0.0.1',
        role: 'manager',
        state: 'ready',
        availability: 'active',
        sandboxes: 1,
        cpus: info.NCPU,
        memoryBytes: info.MemTotal,
      },
    ]);
    const details = (await kai.request('GET', `/api/flexy/${name}`)).body.data;
    assert.equal(details.node, null);
    assert.equal(details.statusReason, null);
  });

  it('accepts a pin to this engine and refuses any other node without creating anything', async () => {
    const info = await docker.info();
    const pinned = await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-here`, node: info.Name });
    assert.equal(pinned.status, 201, JSON.stringify(pinned.body));
    const elsewhere = await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-there`, node: `not-${hostname()}-x` });
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.body.error.code, 'VALIDATION_ERROR');
    assert.match(elsewhere.body.error.message, /KAI_RUNTIME=swarm/);
    assert.equal((await kai.request('GET', `/api/flexy/${kai.prefix}-there`)).status, 404);
    for (const bad of ['', '-x', 'a b', 'x'.repeat(254), 42]) {
      const response = await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-bad`, node: bad });
      assert.equal(response.status, 400, JSON.stringify(bad));
      assert.equal(response.body.error.details.fields[0].field, 'body.node');
    }
  });

  it('needs credentials', async () => {
    assert.equal((await kai.anonymous('GET', '/api/nodes')).status, 401);
  });
});

describe('Nodes and sandboxes when the engine cannot be reached', () => {
  for (const runtime of ['docker', 'swarm']) {
    it(`answers 503 DOCKER_ERROR on the ${runtime} runtime and is not ready`, async () => {
      const kai = await startKai({ KAI_RUNTIME: runtime, DOCKER_HOST: `unix:///tmp/kai-no-engine-${process.pid}.sock` });
      try {
        assert.equal((await kai.request('GET', '/api/ready')).status, 503);
        for (const [method, route, body] of [
          ['GET', '/api/nodes', undefined],
          ['GET', '/api/flexy', undefined],
          ['POST', '/api/flexy', { name: `${kai.prefix}-down` }],
          ['POST', '/api/flexy', { name: `${kai.prefix}-down`, node: 'somewhere' }],
        ] as const) {
          const response = await kai.request(method, route, body);
          assert.equal(response.status, 503, `${method} ${route}: ${JSON.stringify(response.body)}`);
          assert.equal(response.body.error.code, 'DOCKER_ERROR');
          assert.match(response.body.error.message, /not reachable/);
        }
      } finally {
        await kai.close();
      }
    });
  }
});
